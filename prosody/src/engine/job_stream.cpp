// job_stream.cpp - a job's data to and from module frames (job_stream.hpp).
#include "engine/job_stream.hpp"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dsp/g711.hpp"
#include "dsp/kernels.hpp"

namespace prosody::detail {

unsigned half_bytes_per_sample(DataFormat f) {
  switch (f) {
    case DataFormat::linear16:
      return 4;
    case DataFormat::oki_adpcm:
      return 1;
    default:
      return 2;
  }
}

bool job_format_ok(DataFormat f) {
  switch (f) {
    case DataFormat::alaw:
    case DataFormat::ulaw:
    case DataFormat::linear16:
    case DataFormat::unsigned8:
    case DataFormat::signed8:
    case DataFormat::oki_adpcm:
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// OKI (Dialogic VOX) ADPCM: libsndfile's codec on a stream in memory. The
// codec keeps its predictor between calls, so the stream is continuous
// across frames; it is opened once per job.

class OkiCodec {
 public:
  explicit OkiCodec(bool encoding, unsigned rate) {
    SF_INFO info{};
    info.samplerate = int(rate);
    info.channels = 1;
    info.format = SF_FORMAT_RAW | SF_FORMAT_VOX_ADPCM;
    static SF_VIRTUAL_IO io = {&OkiCodec::length, &OkiCodec::seek, &OkiCodec::read, &OkiCodec::write, &OkiCodec::tell};
    sf_ = sf_open_virtual(&io, encoding ? SFM_WRITE : SFM_READ, &info, this);
    if (!sf_) throw Error(Errc::no_resources, std::string("libsndfile VOX codec: ") + sf_strerror(nullptr));
  }
  ~OkiCodec() {
    if (sf_) sf_close(sf_);
  }

  // Encodes n samples (n even) to n / 2 bytes at out.
  std::size_t encode(const std::int16_t* x, std::size_t n, std::uint8_t* out) {
    out_ = out;
    out_n_ = 0;
    sf_write_short(sf_, x, sf_count_t(n));
    return out_n_;
  }
  // Decodes n bytes at in to 2n samples.
  std::size_t decode(const std::uint8_t* in, std::size_t n, std::int16_t* y) {
    in_ = in;
    in_n_ = n;
    const sf_count_t got = sf_read_short(sf_, y, sf_count_t(2 * n));
    return got > 0 ? std::size_t(got) : 0;
  }

 private:
  static sf_count_t length(void*) { return sf_count_t(1) << 50; }  // an endless stream
  static sf_count_t seek(sf_count_t offset, int whence, void* self_ptr) {
    auto* self = static_cast<OkiCodec*>(self_ptr);
    if (whence == SEEK_SET) self->pos_ = offset;
    if (whence == SEEK_CUR) self->pos_ += offset;
    return self->pos_;
  }
  static sf_count_t tell(void* self_ptr) { return static_cast<OkiCodec*>(self_ptr)->pos_; }
  static sf_count_t read(void* ptr, sf_count_t count, void* self_ptr) {
    auto* self = static_cast<OkiCodec*>(self_ptr);
    const std::size_t k = std::min<std::size_t>(std::size_t(count), self->in_n_);
    std::memcpy(ptr, self->in_, k);
    self->in_ += k;
    self->in_n_ -= k;
    self->pos_ += sf_count_t(k);
    return sf_count_t(k);
  }
  static sf_count_t write(const void* ptr, sf_count_t count, void* self_ptr) {
    auto* self = static_cast<OkiCodec*>(self_ptr);
    if (self->out_) std::memcpy(self->out_ + self->out_n_, ptr, std::size_t(count));
    self->out_n_ += std::size_t(count);
    self->pos_ += count;
    return count;
  }

  SNDFILE* sf_ = nullptr;
  sf_count_t pos_ = 0;
  const std::uint8_t* in_ = nullptr;
  std::size_t in_n_ = 0;
  std::uint8_t* out_ = nullptr;
  std::size_t out_n_ = 0;
};

namespace {

void decode_bytes(DataFormat f, const std::uint8_t* in, float* out, std::size_t n) {
  switch (f) {
    case DataFormat::alaw:
      dsp::decode_alaw(in, out, n);
      break;
    case DataFormat::ulaw:
      dsp::decode_ulaw(in, out, n);
      break;
    case DataFormat::linear16:
      for (std::size_t i = 0; i < n; ++i) {
        std::int16_t v;  // the bytes may not be aligned for int16
        std::memcpy(&v, in + 2 * i, 2);
        out[i] = float(v) * (1.0f / 32768.0f);
      }
      break;
    case DataFormat::unsigned8:
      for (std::size_t i = 0; i < n; ++i) out[i] = (static_cast<float>(in[i]) - 128.0f) / 128.0f;
      break;
    case DataFormat::signed8:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<std::int8_t>(in[i])) / 128.0f;
      break;
    case DataFormat::oki_adpcm:
      break;  // OkiCodec
  }
}

void encode_samples(DataFormat f, const float* in, std::uint8_t* out, std::size_t n) {
  switch (f) {
    case DataFormat::alaw:
      dsp::encode_alaw(in, out, n);
      break;
    case DataFormat::ulaw:
      dsp::encode_ulaw(in, out, n);
      break;
    case DataFormat::linear16:
      for (std::size_t i = 0; i < n; ++i) {
        std::int16_t v;
        dsp::float_to_s16(in + i, &v, 1);
        std::memcpy(out + 2 * i, &v, 2);
      }
      break;
    case DataFormat::unsigned8:
      for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<std::uint8_t>(std::clamp(std::nearbyint(in[i] * 128.0f) + 128.0f, 0.0f, 255.0f));
      break;
    case DataFormat::signed8:
      for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<std::uint8_t>(
            static_cast<std::int8_t>(std::clamp(std::nearbyint(in[i] * 128.0f), -128.0f, 127.0f)));
      break;
    case DataFormat::oki_adpcm:
      break;  // OkiCodec
  }
}

unsigned job_rate(unsigned requested, unsigned module_rate) { return requested ? requested : module_rate; }

}  // namespace

// ---------------------------------------------------------------------------
// Replay

ReplayStream::ReplayStream(const ReplaySettings& s, unsigned module_rate, unsigned max_frame) : format_(s.format) {
  const unsigned rate = job_rate(s.sample_rate, module_rate);
  if (format_ == DataFormat::oki_adpcm) oki_ = std::make_unique<OkiCodec>(false, rate);
  std::size_t per_frame = max_frame;
  if (rate != module_rate) {
    resampler_ = std::make_unique<Resampler>(rate, module_rate);
    per_frame = std::size_t(std::ceil(max_frame * double(rate) / module_rate)) + 2;
  }
  bytes_.resize(2 * per_frame + 2);
  pending_.resize(per_frame);
  s16_.resize(per_frame + 2);
}

ReplayStream::~ReplayStream() = default;

std::size_t ReplayStream::decode(ReplayJob& job, float* out, std::size_t k) {
  const unsigned half = half_bytes_per_sample(format_);
  std::size_t want = k * half / 2;
  if (format_ == DataFormat::oki_adpcm) want = k / 2;
  const std::uint64_t limit = job.settings.data_length;
  const std::uint64_t played = job.bytes_played.load(std::memory_order_relaxed);
  if (limit > 0) want = std::size_t(std::min<std::uint64_t>(want, limit - std::min(limit, played)));
  const std::size_t whole = format_ == DataFormat::linear16 ? want - want % 2 : want;
  const std::size_t got = job.data.read(bytes_.data(), whole);
  job.bytes_played.fetch_add(got, std::memory_order_relaxed);
  if (format_ == DataFormat::oki_adpcm) {
    const std::size_t made = oki_->decode(bytes_.data(), got, s16_.data());
    dsp::s16_to_float(s16_.data(), out, made);
    return made;
  }
  const std::size_t samples = got * 2 / half;
  decode_bytes(format_, bytes_.data(), out, samples);
  return samples;
}

std::size_t ReplayStream::render(ReplayJob& job, float* y, std::size_t n, bool& drained) {
  drained = false;
  const std::uint64_t limit = job.settings.data_length;
  auto data_done = [&] {
    const bool reached = limit > 0 && job.bytes_played.load(std::memory_order_relaxed) >= limit;
    return reached || (job.last_put.load(std::memory_order_acquire) && job.data.size() == 0);
  };
  if (!resampler_) {
    const std::size_t made = decode(job, y, n);
    drained = data_done();
    return made;
  }
  // Other rates: decode what the converter needs, then convert.
  std::size_t made = 0;
  while (made < n && !flushed_) {
    if (pending_at_ == pending_n_) {
      const std::size_t need = std::size_t(std::ceil((n - made) / resampler_->ratio())) + 1;
      pending_n_ = decode(job, pending_.data(), std::min(need, pending_.size()));
      pending_at_ = 0;
    }
    const bool end = pending_at_ == pending_n_ && data_done();
    if (pending_at_ == pending_n_ && !end) break;  // starved: an underrun
    std::size_t used = 0, out = 0;
    resampler_->process(pending_.data() + pending_at_, pending_n_ - pending_at_, y + made, n - made, end, used, out);
    pending_at_ += used;
    made += out;
    if (end && out == 0) flushed_ = true;
    if (used == 0 && out == 0 && !end) break;
  }
  drained = flushed_;
  return made;
}

// ---------------------------------------------------------------------------
// Record

RecordStream::RecordStream(const RecordSettings& s, unsigned module_rate, unsigned max_frame) : format_(s.format) {
  const unsigned rate = job_rate(s.sample_rate, module_rate);
  if (format_ == DataFormat::oki_adpcm) oki_ = std::make_unique<OkiCodec>(true, rate);
  std::size_t per_frame = max_frame;
  if (rate != module_rate) {
    resampler_ = std::make_unique<Resampler>(module_rate, rate);
    per_frame = std::size_t(std::ceil(max_frame * double(rate) / module_rate)) + 4;
  }
  converted_.resize(per_frame);
  bytes_.resize(2 * per_frame + 2);
  s16_.resize(per_frame + 1);  // + an odd OKI sample carried over
}

RecordStream::~RecordStream() = default;

std::size_t RecordStream::encode(const float* x, std::size_t n) {
  const float* src = x;
  std::size_t k = n;
  if (resampler_) {
    std::size_t used = 0;
    resampler_->process(x, n, converted_.data(), converted_.size(), false, used, k);
    src = converted_.data();
  }
  if (format_ != DataFormat::oki_adpcm) {
    encode_samples(format_, src, bytes_.data(), k);
    return k * half_bytes_per_sample(format_) / 2;
  }
  // Two samples a byte: an odd one waits for the next frame.
  std::size_t m = 0;
  if (has_carry_) s16_[m++] = carry_;
  dsp::float_to_s16(src, s16_.data() + m, k);
  m += k;
  has_carry_ = m % 2 != 0;
  if (has_carry_) carry_ = s16_[--m];
  return oki_->encode(s16_.data(), m, bytes_.data());
}

}  // namespace prosody::detail
