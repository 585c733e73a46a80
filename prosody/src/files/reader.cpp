// reader.cpp - any file libsndfile reads (FLAC included), as float samples
// or as its own encoded bytes; and libsamplerate's converter.
#include <samplerate.h>
#include <sndfile.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "files/sndfile_format.hpp"
#include "prosody/files.hpp"
#include "prosody/prosody.hpp"

namespace prosody {

struct FileReader::Impl {
  SNDFILE* sf = nullptr;
  std::vector<std::int16_t> s16;
  ~Impl() {
    if (sf) sf_close(sf);
  }
};

FileReader::~FileReader() = default;

std::unique_ptr<FileReader> FileReader::open(const std::string& path, const FileReaderSettings& settings,
                                             std::string* error) {
  SF_INFO info{};
  const bool raw = settings.raw_format && (settings.raw_format->container == FileContainer::raw ||
                                           settings.raw_format->container == FileContainer::vox);
  if (raw) {
    info.samplerate = int(settings.raw_rate);
    info.channels = int(settings.raw_channels);
    info.format = files::sndfile_format(*settings.raw_format);
  }
  SNDFILE* sf = sf_open(path.c_str(), SFM_READ, &info);
  if (!sf) {
    if (error) *error = path + ": " + sf_strerror(nullptr);
    return nullptr;
  }
  const auto format = files::format_of_sndfile(info.format);
  if (!format) {
    if (error) *error = path + ": not a container this library reads (WAV, AU, raw, VOX, FLAC, Ogg)";
    sf_close(sf);
    return nullptr;
  }
  std::unique_ptr<FileReader> r(new FileReader);
  r->impl_ = std::make_unique<Impl>();
  r->impl_->sf = sf;
  r->rate_ = unsigned(info.samplerate);
  r->channels_ = unsigned(info.channels);
  // Unknown lengths (a FLAC stream still being written) are reported as -1.
  r->frames_ = info.frames == SF_COUNT_MAX ? -1 : std::int64_t(info.frames);
  r->format_ = *format;
  return r;
}

std::size_t FileReader::read(float* x, std::size_t frames) {
  auto& s16 = impl_->s16;
  const std::size_t n = frames * channels_;
  if (s16.size() < n) s16.resize(n);
  const sf_count_t got = sf_readf_short(impl_->sf, s16.data(), sf_count_t(frames));
  if (got <= 0) return 0;
  s16_to_float(s16.data(), x, std::size_t(got) * channels_);
  return std::size_t(got);
}

std::size_t FileReader::read_mono(float* out, std::size_t frames) {
  if (channels_ == 1) return read(out, frames);
  if (scratch_.size() < frames * channels_) scratch_.resize(frames * channels_);
  const std::size_t got = read(scratch_.data(), frames);
  for (std::size_t i = 0; i < got; ++i) {
    float sum = 0.0f;
    for (unsigned c = 0; c < channels_; ++c) sum += scratch_[i * channels_ + c];
    out[i] = sum / float(channels_);
  }
  return got;
}

std::size_t FileReader::read_encoded(void* bytes, std::size_t n) {
  const sf_count_t got = sf_read_raw(impl_->sf, bytes, sf_count_t(n));
  return got > 0 ? std::size_t(got) : 0;
}

bool FileReader::seek(std::uint64_t frame) { return sf_seek(impl_->sf, sf_count_t(frame), SEEK_SET) >= 0; }

// ---------------------------------------------------------------------------

Resampler::Resampler(unsigned from_rate, unsigned to_rate) : ratio_(double(to_rate) / double(from_rate)) {
  int err = 0;
  // Medium-quality sinc: 97 dB of stop-band rejection, a fraction of the
  // cost of the best converter; far beyond telephony's needs.
  state_ = src_new(SRC_SINC_MEDIUM_QUALITY, 1, &err);
  if (!state_) throw Error(Errc::no_resources, std::string("libsamplerate: ") + src_strerror(err));
}

Resampler::~Resampler() {
  if (state_) src_delete(static_cast<SRC_STATE*>(state_));
}

void Resampler::process(const float* in, std::size_t n_in, float* out, std::size_t n_out, bool end_of_input,
                        std::size_t& used, std::size_t& made) {
  SRC_DATA d{};
  d.data_in = in;
  d.data_out = out;
  d.input_frames = long(n_in);
  d.output_frames = long(n_out);
  d.end_of_input = end_of_input ? 1 : 0;
  d.src_ratio = ratio_;
  used = made = 0;
  if (src_process(static_cast<SRC_STATE*>(state_), &d) != 0) return;
  used = std::size_t(d.input_frames_used);
  made = std::size_t(d.output_frames_gen);
}

}  // namespace prosody
