// job_stream.hpp - a replay or record job's data (its format, its rate) to
// and from the module's frames: G.711, linear and 8-bit formats here, OKI
// ADPCM through libsndfile's VOX codec, other rates through libsamplerate.
// Built when the runtime adopts a job (adopt.cpp); used by the processing
// path only (jobs.cpp); no allocation per frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/control.hpp"
#include "prosody/files.hpp"
#include "prosody/prosody.hpp"

namespace prosody::detail {

// Bytes a sample takes in format f, times two (OKI ADPCM packs two samples
// in a byte).
unsigned half_bytes_per_sample(DataFormat f);
// Whether the data format is one the jobs take.
bool job_format_ok(DataFormat f);

class OkiCodec;

class ReplayStream {
 public:
  ReplayStream(const ReplaySettings& settings, unsigned module_rate, unsigned max_frame);
  ~ReplayStream();
  ReplayStream(const ReplayStream&) = delete;
  ReplayStream& operator=(const ReplayStream&) = delete;

  // Fills y with up to n module-rate samples decoded from the job's queue
  // (within its data_length), counting the bytes played. Returns how many;
  // sets drained when the data is used up (last data put, or the length
  // reached) and the converter holds nothing more.
  std::size_t render(ReplayJob& job, float* y, std::size_t n, bool& drained);

 private:
  // Decodes up to k job-rate samples from the queue into out.
  std::size_t decode(ReplayJob& job, float* out, std::size_t k);

  DataFormat format_;
  std::unique_ptr<OkiCodec> oki_;
  std::unique_ptr<Resampler> resampler_;
  std::vector<std::uint8_t> bytes_;
  std::vector<std::int16_t> s16_;
  std::vector<float> pending_;  // decoded, not yet resampled
  std::size_t pending_at_ = 0, pending_n_ = 0;
  bool flushed_ = false;
};

class RecordStream {
 public:
  RecordStream(const RecordSettings& settings, unsigned module_rate, unsigned max_frame);
  ~RecordStream();
  RecordStream(const RecordStream&) = delete;
  RecordStream& operator=(const RecordStream&) = delete;

  // Encodes n module-rate samples; the bytes are in data(), returned count.
  std::size_t encode(const float* x, std::size_t n);
  const std::uint8_t* data() const { return bytes_.data(); }

 private:
  DataFormat format_;
  std::unique_ptr<OkiCodec> oki_;
  std::unique_ptr<Resampler> resampler_;
  std::vector<float> converted_;
  std::vector<std::uint8_t> bytes_;
  std::vector<std::int16_t> s16_;
  std::int16_t carry_ = 0;
  bool has_carry_ = false;
};

}  // namespace prosody::detail
