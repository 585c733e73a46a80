// files.hpp - sound files for record and replay: containers and encodings
// through libsndfile (FLAC through libFLAC, the library libsndfile itself
// uses, so the block size can be small enough to be crash-safe), a writer
// whose file is valid at every moment, a reader that can loop a file
// gaplessly, and sample-rate conversion through libsamplerate.
//
// The C API's FILE helpers (smhlib.h), the record and replay jobs and the
// prosodyrecorder element all use this one layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "prosody/prosody.hpp"

namespace prosody {

enum class FileContainer { wav, au, raw, vox, flac, ogg };

enum class FileEncoding {
  pcm16,
  alaw,
  ulaw,
  pcm_u8,
  pcm_s8,
  ima_adpcm,  // WAV only (libsndfile has no raw IMA stream)
  oki_adpcm,  // VOX (Dialogic/OKI ADPCM), raw
  flac,       // 16-bit FLAC
  opus,       // Ogg/Opus
};

struct FileFormat {
  FileContainer container = FileContainer::wav;
  FileEncoding encoding = FileEncoding::pcm16;
  friend bool operator==(FileFormat a, FileFormat b) { return a.container == b.container && a.encoding == b.encoding; }
};

// Names: "wav" (PCM16), "wav-alaw", "wav-ulaw", "wav-ima-adpcm", "wav-u8",
// "au" (PCM16), "au-alaw", "au-ulaw", "raw" (PCM16), "raw-alaw", "raw-ulaw",
// "raw-u8", "raw-s8", "vox" (OKI ADPCM), "flac", "opus" (Ogg/Opus).
std::optional<FileFormat> parse_file_format(const std::string& name);
std::string file_format_name(FileFormat format);
// The format a path's extension implies (.wav .au .raw .pcm .alaw .ulaw
// .vox .flac .opus .ogg), or none.
std::optional<FileFormat> file_format_for_path(const std::string& path);
// Whether format can hold audio at this rate and channel count; if not, why.
bool file_format_supported(FileFormat format, unsigned rate, unsigned channels, std::string* why = nullptr);
// Every format name, in the order above.
std::vector<std::string> file_format_names();

// ---------------------------------------------------------------------------
// Writing

struct FileWriterSettings {
  FileFormat format;
  unsigned rate = 8000;
  unsigned channels = 1;
  // How often the header is made true (frames counted, lengths rewritten in
  // place): at most this much audio is lost if the process dies. 0 = after
  // every write.
  double sync_interval_s = 0.05;
};

// A file being written. Every write goes to the kernel at once (nothing is
// buffered in this process beyond one encoder block: an ADPCM block, a FLAC
// block of at most 40 ms, an Ogg page for Opus), and every sync_interval_s
// the header is rewritten in place with one write, so a reader finds a valid
// file at any moment, and after a SIGKILL, a full disk or a power cut that
// the kernel survived, the file is valid up to the last sync.
class FileWriter {
 public:
  virtual ~FileWriter();
  // Creates (truncates) path. Null on failure, with the reason in *error.
  static std::unique_ptr<FileWriter> open(const std::string& path, const FileWriterSettings& settings,
                                          std::string* error);

  // Appends frames of interleaved float samples (full scale 1.0). False on
  // a write error (the disk full, ...): error() says why; the file stays
  // valid up to the last successful sync, which this call attempts.
  virtual bool write(const float* interleaved, std::size_t frames) = 0;
  // Appends encoded bytes in the file's own encoding (A-law, mu-law, PCM,
  // OKI ADPCM; not FLAC, Opus or IMA ADPCM, which only write() encodes).
  virtual bool write_encoded(const void* bytes, std::size_t n) = 0;
  // Makes the header true now.
  virtual bool sync() = 0;
  // Finishes the file (final header, encoder flushed). Idempotent.
  virtual bool close() = 0;

  const FileWriterSettings& settings() const { return settings_; }
  std::uint64_t frames_written() const { return frames_; }
  // Bytes in the file so far.
  virtual std::uint64_t bytes() const = 0;
  const std::string& error() const { return error_; }

 protected:
  FileWriter() = default;
  FileWriterSettings settings_;
  std::uint64_t frames_ = 0;
  std::string error_;
};

// ---------------------------------------------------------------------------
// Reading

struct FileReaderSettings {
  // Raw and VOX files carry no header: their format, rate and channels.
  std::optional<FileFormat> raw_format;
  unsigned raw_rate = 8000;
  unsigned raw_channels = 1;
};

class FileReader {
 public:
  ~FileReader();
  static std::unique_ptr<FileReader> open(const std::string& path, const FileReaderSettings& settings,
                                          std::string* error);
  unsigned rate() const { return rate_; }
  unsigned channels() const { return channels_; }
  std::int64_t frames() const { return frames_; }  // -1: unknown
  FileFormat format() const { return format_; }
  // Up to frames frames of interleaved float samples; fewer at the end.
  std::size_t read(float* interleaved, std::size_t frames);
  // The same, mixed down to mono (the mean of the channels).
  std::size_t read_mono(float* out, std::size_t frames);
  // Encoded bytes in the file's own encoding (see write_encoded).
  std::size_t read_encoded(void* bytes, std::size_t n);
  bool seek(std::uint64_t frame);

 private:
  FileReader() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned rate_ = 0, channels_ = 0;
  std::int64_t frames_ = -1;
  FileFormat format_;
  std::vector<float> scratch_;
};

// ---------------------------------------------------------------------------
// The record job's rules on frames: silence elimination and termination on
// time and silence. The record job (one channel) and prosodyrecorder (the
// channels of one file) share them.

struct RecordRules {
  double silence_level_dbm0 = -45.0;  // a frame whose loudest channel is below is silent
  std::uint32_t max_elapsed_ms = 0;   // 0 = no limit
  std::uint32_t max_silence_ms = 0;   // after sound was heard
  std::uint32_t max_initial_silence_ms = 0;
  std::uint32_t silence_elimination_ms = 0;  // as RecordSettings::silence_elimination_ms
};

class RecordGate {
 public:
  // frame_samples per channel; frames interleaved over channels.
  RecordGate(const RecordRules& rules, unsigned rate, unsigned frame_samples, unsigned channels);

  // One frame and its level (the mean square of its loudest channel).
  // Returns the samples to record now: nothing (silence being eliminated),
  // or the silence held back before this frame (the onset's lead-in) and
  // the frame. Valid until the next call. The frame that reaches a limit is
  // recorded, and termination() tells which.
  Span<const float> feed(const float* frame, double mean_square);
  RecordTermination termination() const { return ends_; }
  bool frame_was_silent() const { return silent_; }
  // Silent frames at the end, when termination() is silence.
  std::uint64_t silent_run() const { return silent_run_; }
  std::uint64_t frames_in() const { return frames_in_; }
  // The most feed() returns at once, in samples.
  std::size_t max_samples_out() const { return (keep_frames_ + 1) * frame_len_; }
  std::uint64_t frames_recorded() const { return frames_out_; }

 private:
  RecordRules rules_;
  std::size_t frame_len_;  // samples per frame, all channels
  double frame_ms_;
  double silence_ms_threshold_;
  std::uint64_t keep_frames_ = 0;  // elimination: silence kept after and before sound
  std::vector<float> held_;        // ring of the last keep_frames_ silent frames not recorded
  std::size_t held_count_ = 0, held_next_ = 0;
  std::vector<float> out_;
  RecordTermination ends_ = RecordTermination::not_yet;
  bool heard_sound_ = false;
  bool silent_ = false;
  std::uint64_t silent_run_ = 0;
  std::uint64_t frames_in_ = 0, frames_out_ = 0;
};

// ---------------------------------------------------------------------------
// Sample-rate conversion (libsamplerate, sinc), streaming, mono.

class Resampler {
 public:
  Resampler(unsigned from_rate, unsigned to_rate);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  double ratio() const { return ratio_; }
  // Converts what it can of in (n_in samples) into out (room for n_out):
  // sets used (input consumed) and made (output written). end_of_input
  // flushes what the filter holds.
  void process(const float* in, std::size_t n_in, float* out, std::size_t n_out, bool end_of_input, std::size_t& used,
               std::size_t& made);

 private:
  void* state_ = nullptr;
  double ratio_ = 1.0;
};

}  // namespace prosody
