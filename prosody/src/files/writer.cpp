// writer.cpp - files that are valid at every moment.
//
// libsndfile writes every container but FLAC. Its writes go straight to the
// file descriptor (it keeps no user-space buffer for PCM and G.711; an ADPCM
// block at most), and SFC_UPDATE_HEADER_NOW rewrites the header with the
// lengths written so far, in place and with one write: so the file's header
// is true after every sync and never torn, whatever kills the process.
//
// FLAC is written with libFLAC directly: libsndfile encodes in blocks of
// 1152 or 4096 samples (144 ms or more at 8 kHz, all lost in a crash) and
// offers no way to make them smaller. Here a block is at most 40 ms, each
// block reaches the file in one write as libFLAC emits it, and the
// STREAMINFO's total-samples field is rewritten in place after every block:
// a FLAC file is valid at every moment (MD5 and frame-size fields stay
// "unknown" until close, as the format allows).
#include <FLAC/stream_encoder.h>
#include <fcntl.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

#include "dsp/g711.hpp"
#include "files/sndfile_format.hpp"
#include "prosody/files.hpp"
#include "prosody/prosody.hpp"

namespace prosody {

FileWriter::~FileWriter() = default;

namespace {

std::string errno_text(const char* what, int err) { return std::string(what) + ": " + std::strerror(err); }

std::uint64_t sync_every_frames(const FileWriterSettings& s) {
  return static_cast<std::uint64_t>(std::max(0.0, s.sync_interval_s) * s.rate);
}

// Audio waits in memory for at most the sync interval, then goes to the
// file in one write, with the header made true right after: a few system
// calls per interval rather than a few per buffer, and the same loss bound.
class SndfileWriter final : public FileWriter {
 public:
  SndfileWriter(int fd, SNDFILE* sf, const FileWriterSettings& s) : fd_(fd), sf_(sf) {
    settings_ = s;
    sync_every_ = sync_every_frames(s);
  }
  ~SndfileWriter() override { close(); }

  bool write(const float* x, std::size_t frames) override {
    if (!sf_) return fail("the file is closed");
    const std::size_t n = frames * settings_.channels;
    const FileEncoding e = settings_.format.encoding;
    if (e == FileEncoding::alaw || e == FileEncoding::ulaw) {
      // Our G.711 encoder (the ITU reference rule, as spandsp's); libsndfile
      // rounds some negative samples to the neighbouring code.
      const std::size_t at = pending_raw_.size();
      pending_raw_.resize(at + n);
      (e == FileEncoding::alaw ? dsp::encode_alaw : dsp::encode_ulaw)(x, pending_raw_.data() + at, n);
    } else {
      const std::size_t at = pending_s16_.size();
      pending_s16_.resize(at + n);
      float_to_s16(x, pending_s16_.data() + at, n);  // the library's rounding rule: PCM16 is bit-exact
    }
    return queued(frames);
  }

  bool write_encoded(const void* bytes, std::size_t n) override {
    if (!sf_) return fail("the file is closed");
    const unsigned ch = settings_.channels;
    switch (settings_.format.encoding) {
      case FileEncoding::pcm16: {  // as samples: libsndfile writes the container's byte order
        const std::size_t at = pending_s16_.size(), k = n / 2;
        pending_s16_.resize(at + k);
        std::memcpy(pending_s16_.data() + at, bytes, k * 2);
        return queued(k / ch);
      }
      case FileEncoding::alaw:
      case FileEncoding::ulaw:
      case FileEncoding::pcm_u8:
      case FileEncoding::pcm_s8:
      case FileEncoding::oki_adpcm: {
        const auto* b = static_cast<const std::uint8_t*>(bytes);
        pending_raw_.insert(pending_raw_.end(), b, b + n);
        return queued(settings_.format.encoding == FileEncoding::oki_adpcm ? n * 2 : n / ch);
      }
      default:
        return fail("this encoding takes samples, not encoded bytes");
    }
  }

  bool sync() override {
    if (!sf_) return error_.empty();
    const bool ok = flush();
    sf_command(sf_, SFC_UPDATE_HEADER_NOW, nullptr, 0);  // in place: needs no new space
    return ok && error_.empty();
  }

  bool close() override {
    if (!sf_) return error_.empty();
    flush();
    sf_close(sf_);  // writes the final header
    sf_ = nullptr;
    struct stat st {};
    if (fstat(fd_, &st) == 0) last_bytes_ = std::uint64_t(st.st_size);
    ::close(fd_);
    return error_.empty();
  }

  // What is in the file, and what will be once the waiting audio is written.
  std::uint64_t bytes() const override {
    struct stat st {};
    if (!sf_ || fstat(fd_, &st) != 0) return last_bytes_;
    std::uint64_t waiting = pending_raw_.size();
    if (settings_.format.encoding == FileEncoding::pcm16) waiting += pending_s16_.size() * 2;
    if (settings_.format.encoding == FileEncoding::pcm_u8) waiting += pending_s16_.size();
    return std::uint64_t(st.st_size) + waiting;
  }

 private:
  bool queued(std::size_t frames) {
    frames_ += frames;
    pending_frames_ += frames;
    return pending_frames_ >= sync_every_ ? sync() : error_.empty();
  }

  // Writes the waiting audio. On a short write (the disk full) the file
  // keeps what was written; error_ says how much.
  bool flush() {
    if (pending_frames_ == 0 || !error_.empty()) return error_.empty();
    bool ok = true;
    if (!pending_s16_.empty()) {
      const sf_count_t want = sf_count_t(pending_s16_.size() / settings_.channels);
      ok = sf_writef_short(sf_, pending_s16_.data(), want) == want;
    } else if (!pending_raw_.empty()) {
      ok = sf_write_raw(sf_, pending_raw_.data(), sf_count_t(pending_raw_.size())) == sf_count_t(pending_raw_.size());
    }
    pending_s16_.clear();
    pending_raw_.clear();
    pending_frames_ = 0;
    if (!ok) {
      const char* why = sf_strerror(sf_);
      error_ = std::string("write failed after ") + std::to_string(on_disk_frames()) +
               " frames: " + (why && *why && std::strcmp(why, "No Error.") != 0 ? why : std::strerror(ENOSPC));
    }
    return ok;
  }

  std::uint64_t on_disk_frames() {
    SF_INFO info{};
    sf_command(sf_, SFC_GET_CURRENT_SF_INFO, &info, sizeof info);
    return std::uint64_t(info.frames);
  }

  bool fail(const char* why) {
    error_ = why;
    return false;
  }

  int fd_;
  SNDFILE* sf_;
  std::uint64_t sync_every_ = 0;
  std::uint64_t pending_frames_ = 0;
  std::uint64_t last_bytes_ = 0;
  std::vector<std::int16_t> pending_s16_;
  std::vector<std::uint8_t> pending_raw_;
};

// FLAC's STREAMINFO: after "fLaC" and the 4-byte block header; its 36-bit
// total-samples field starts in the low nibble of byte 13.
constexpr off_t kStreamInfoOffset = 8;

class FlacWriter final : public FileWriter {
 public:
  FlacWriter(int fd, const FileWriterSettings& s) : fd_(fd) { settings_ = s; }
  ~FlacWriter() override { close(); }

  bool init(std::string* error) {
    enc_ = FLAC__stream_encoder_new();
    if (!enc_) return init_fail(error, "libFLAC: no encoder");
    // At most 40 ms a block: what a crash can lose (see the file comment).
    const unsigned block = std::clamp(settings_.rate / 25u, 16u, 4608u);
    FLAC__stream_encoder_set_verify(enc_, false);
    FLAC__stream_encoder_set_compression_level(enc_, 5);
    FLAC__stream_encoder_set_blocksize(enc_, block);
    FLAC__stream_encoder_set_channels(enc_, settings_.channels);
    FLAC__stream_encoder_set_bits_per_sample(enc_, 16);
    FLAC__stream_encoder_set_sample_rate(enc_, settings_.rate);
    const auto st = FLAC__stream_encoder_init_stream(enc_, &FlacWriter::on_write, &FlacWriter::on_seek,
                                                     &FlacWriter::on_tell, nullptr, this);
    if (st != FLAC__STREAM_ENCODER_INIT_STATUS_OK)
      return init_fail(error, std::string("libFLAC: ") + FLAC__StreamEncoderInitStatusString[st]);
    return error_.empty() || init_fail(error, error_);
  }

  bool write(const float* x, std::size_t frames) override {
    if (!enc_) return fail("the file is closed");
    const std::size_t n = frames * settings_.channels;
    if (s16_.size() < n) {
      s16_.resize(n);
      wide_.resize(n);
    }
    float_to_s16(x, s16_.data(), n);
    std::copy(s16_.begin(), s16_.begin() + std::ptrdiff_t(n), wide_.begin());
    if (!FLAC__stream_encoder_process_interleaved(enc_, wide_.data(), unsigned(frames))) {
      if (error_.empty()) error_ = std::string("libFLAC: ") + FLAC__stream_encoder_get_resolved_state_string(enc_);
      return false;
    }
    frames_ += frames;
    return error_.empty();
  }

  bool write_encoded(const void*, std::size_t) override { return fail("FLAC takes samples, not encoded bytes"); }

  bool sync() override { return write_total(samples_on_disk_) && error_.empty(); }

  bool close() override {
    if (!enc_) return error_.empty();
    closing_ = true;
    // Writes the last block and the final STREAMINFO (MD5, frame sizes).
    if (error_.empty()) FLAC__stream_encoder_finish(enc_);
    FLAC__stream_encoder_delete(enc_);
    enc_ = nullptr;
    last_bytes_ = bytes_now();
    ::close(fd_);
    return error_.empty();
  }

  std::uint64_t bytes() const override { return enc_ ? bytes_now() : last_bytes_; }

 private:
  std::uint64_t bytes_now() const {
    struct stat st {};
    return fstat(fd_, &st) == 0 ? std::uint64_t(st.st_size) : 0;
  }

  bool init_fail(std::string* error, const std::string& why) {
    if (error) *error = why;
    return false;
  }
  bool fail(const char* why) {
    error_ = why;
    return false;
  }

  // The STREAMINFO's total samples: what the blocks on disk hold.
  bool write_total(std::uint64_t total) {
    unsigned char b[5];
    if (pread(fd_, b, 1, kStreamInfoOffset + 13) != 1) return false;
    b[0] = static_cast<unsigned char>((b[0] & 0xF0) | ((total >> 32) & 0x0F));
    b[1] = static_cast<unsigned char>(total >> 24);
    b[2] = static_cast<unsigned char>(total >> 16);
    b[3] = static_cast<unsigned char>(total >> 8);
    b[4] = static_cast<unsigned char>(total);
    return pwrite(fd_, b, 5, kStreamInfoOffset + 13) == 5;
  }

  static FLAC__StreamEncoderWriteStatus on_write(const FLAC__StreamEncoder*, const FLAC__byte buffer[], size_t bytes,
                                                 uint32_t samples, uint32_t, void* self_ptr) {
    auto* self = static_cast<FlacWriter*>(self_ptr);
    std::size_t done = 0;
    while (done < bytes) {
      const ssize_t w = ::write(self->fd_, buffer + done, bytes - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        const int err = w < 0 ? errno : ENOSPC;
        // A torn block at the end of the file: cut it off, so what is on
        // disk is whole blocks and the header counts them.
        const off_t end = lseek(self->fd_, 0, SEEK_CUR);
        if (end >= 0 && ftruncate(self->fd_, end - off_t(done)) == 0) lseek(self->fd_, end - off_t(done), SEEK_SET);
        self->error_ = errno_text("write failed", err) + " after " + std::to_string(self->samples_on_disk_) + " frames";
        return FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR;
      }
      done += std::size_t(w);
    }
    if (samples > 0 && !self->closing_) {
      self->samples_on_disk_ += samples;
      self->write_total(self->samples_on_disk_);
    }
    return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
  }
  static FLAC__StreamEncoderSeekStatus on_seek(const FLAC__StreamEncoder*, FLAC__uint64 offset, void* self_ptr) {
    auto* self = static_cast<FlacWriter*>(self_ptr);
    return lseek(self->fd_, off_t(offset), SEEK_SET) < 0 ? FLAC__STREAM_ENCODER_SEEK_STATUS_ERROR
                                                         : FLAC__STREAM_ENCODER_SEEK_STATUS_OK;
  }
  static FLAC__StreamEncoderTellStatus on_tell(const FLAC__StreamEncoder*, FLAC__uint64* offset, void* self_ptr) {
    auto* self = static_cast<FlacWriter*>(self_ptr);
    const off_t at = lseek(self->fd_, 0, SEEK_CUR);
    if (at < 0) return FLAC__STREAM_ENCODER_TELL_STATUS_ERROR;
    *offset = FLAC__uint64(at);
    return FLAC__STREAM_ENCODER_TELL_STATUS_OK;
  }

  int fd_;
  FLAC__StreamEncoder* enc_ = nullptr;
  bool closing_ = false;
  std::uint64_t samples_on_disk_ = 0;
  std::uint64_t last_bytes_ = 0;
  std::vector<std::int16_t> s16_;
  std::vector<FLAC__int32> wide_;
};

}  // namespace

std::unique_ptr<FileWriter> FileWriter::open(const std::string& path, const FileWriterSettings& settings,
                                             std::string* error) {
  std::string why;
  if (!file_format_supported(settings.format, settings.rate, settings.channels, &why)) {
    if (error) *error = file_format_name(settings.format) + ": " + why;
    return nullptr;
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    if (error) *error = errno_text(path.c_str(), errno);
    return nullptr;
  }
  if (settings.format.container == FileContainer::flac) {
    auto w = std::make_unique<FlacWriter>(fd, settings);
    if (!w->init(error)) return nullptr;
    return w;
  }
  SF_INFO info{};
  info.samplerate = int(settings.rate);
  info.channels = int(settings.channels);
  info.format = files::sndfile_format(settings.format);
  SNDFILE* sf = sf_open_fd(fd, SFM_WRITE, &info, SF_FALSE);
  if (!sf) {
    if (error) *error = std::string(path) + ": " + sf_strerror(nullptr);
    ::close(fd);
    return nullptr;
  }
  sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, nullptr, SF_FALSE);
  auto w = std::make_unique<SndfileWriter>(fd, sf, settings);
  w->sync();  // a valid, empty file from the start
  return w;
}

}  // namespace prosody
