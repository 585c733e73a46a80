// file_open.cpp - prosody_sw_file_open (smhlib.h): a sound file as the FILE *
// the FILE helpers read and write. glibc's fopencookie puts our functions
// behind the FILE; the stream is unbuffered, so every fwrite of the record
// helper reaches the file writer (and the disk) at once.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "capi/capi.hpp"
#include "dsp/g711.hpp"
#include "prosody/files.hpp"
#include "prosody/smhlib.h"

using namespace prosody;

namespace {

// The file encoding that carries a job's data type unchanged, if any.
bool same_encoding(int type, FileEncoding e) {
  switch (type) {
    case kSMDataFormatALawPCM:
      return e == FileEncoding::alaw;
    case kSMDataFormatULawPCM:
      return e == FileEncoding::ulaw;
    case kSMDataFormat16bit:
      return e == FileEncoding::pcm16;
    case kSMDataFormat8bit:
      return e == FileEncoding::pcm_u8;
    case kSMDataFormatSigned8bit:
      return e == FileEncoding::pcm_s8;
    case kSMDataFormatOKIADPCM:
      return e == FileEncoding::oki_adpcm;
  }
  return false;
}

int type_of_encoding(FileEncoding e) {
  switch (e) {
    case FileEncoding::alaw:
      return kSMDataFormatALawPCM;
    case FileEncoding::ulaw:
      return kSMDataFormatULawPCM;
    case FileEncoding::pcm_u8:
      return kSMDataFormat8bit;
    case FileEncoding::pcm_s8:
      return kSMDataFormatSigned8bit;
    case FileEncoding::oki_adpcm:
      return kSMDataFormatOKIADPCM;
    default:
      return kSMDataFormat16bit;
  }
}

struct WriteCookie {
  std::unique_ptr<FileWriter> writer;
  bool passthrough = false;  // else 16-bit samples, encoded by the writer
  int odd_byte = -1;         // half a 16-bit sample from the last call
  std::vector<float> samples;
};

ssize_t cookie_write(void* c, const char* buf, size_t n) {
  auto* w = static_cast<WriteCookie*>(c);
  if (w->passthrough) return w->writer->write_encoded(buf, n) ? ssize_t(n) : -1;
  // 16-bit little-endian samples, possibly split across calls.
  std::size_t at = 0;
  w->samples.clear();
  if (w->odd_byte >= 0 && n > 0) {
    const std::int16_t v = std::int16_t(std::uint16_t(w->odd_byte) | std::uint16_t(std::uint8_t(buf[0])) << 8);
    w->samples.push_back(float(v) / 32768.0f);
    w->odd_byte = -1;
    at = 1;
  }
  for (; at + 1 < n; at += 2) {
    std::int16_t v;
    std::memcpy(&v, buf + at, 2);
    w->samples.push_back(float(v) / 32768.0f);
  }
  if (at < n) w->odd_byte = std::uint8_t(buf[at]);
  if (!w->samples.empty() && !w->writer->write(w->samples.data(), w->samples.size())) return -1;
  return ssize_t(n);
}

int write_close(void* c) {
  auto* w = static_cast<WriteCookie*>(c);
  const bool ok = w->writer->close();
  delete w;
  return ok ? 0 : EOF;
}

struct ReadCookie {
  std::unique_ptr<FileReader> reader;
  bool passthrough = false;  // else 16-bit mono samples
  bool loop = false;
  unsigned bytes_per_frame = 2;  // passthrough: 1 (OKI: a byte holds two frames)
  bool oki = false;
  std::vector<float> samples;
  std::vector<std::int16_t> s16;
};

// One pass of reading into buf, starting the file again at its end when
// looping (a file with no audio ends the stream).
ssize_t cookie_read(void* c, char* buf, size_t n) {
  auto* r = static_cast<ReadCookie*>(c);
  std::size_t done = 0;
  bool rewound = false;
  while (done < n) {
    std::size_t got;
    if (r->passthrough) {
      got = r->reader->read_encoded(buf + done, n - done);
    } else {
      const std::size_t want = (n - done) / 2;
      if (want == 0) break;
      r->samples.resize(want);
      r->s16.resize(want);
      const std::size_t frames = r->reader->read_mono(r->samples.data(), want);
      float_to_s16(r->samples.data(), r->s16.data(), frames);
      std::memcpy(buf + done, r->s16.data(), frames * 2);
      got = frames * 2;
    }
    if (got > 0) {
      done += got;
      rewound = false;
      continue;
    }
    if (!r->loop || rewound || !r->reader->seek(0)) break;
    rewound = true;  // the file again, from its first sample: no gap
  }
  return ssize_t(done);
}

int read_seek(void* c, off64_t* offset, int whence) {
  auto* r = static_cast<ReadCookie*>(c);
  if (whence != SEEK_SET || *offset < 0) return -1;  // the helpers seek from the start only
  const std::uint64_t frame = r->oki ? std::uint64_t(*offset) * 2 : std::uint64_t(*offset) / r->bytes_per_frame;
  return r->reader->seek(frame) ? 0 : -1;
}

int read_close(void* c) {
  delete static_cast<ReadCookie*>(c);
  return 0;
}

}  // namespace

extern "C" int prosody_sw_file_open(struct prosody_sw_file_open_parms* p) {
  if (!p || !p->path) return ERR_SM_BAD_PARAMETER;
  p->fd = nullptr;
  std::optional<FileFormat> format = p->format ? parse_file_format(p->format) : file_format_for_path(p->path);
  if (p->format && !format) return ERR_SM_FILE_FORMAT;
  const unsigned rate = p->sampling_rate ? unsigned(p->sampling_rate) : 8000u;

  if (p->write) {
    if (!format) return ERR_SM_FILE_FORMAT;
    const int type = capi::enum_value(p->type);
    auto cookie = std::make_unique<WriteCookie>();
    cookie->passthrough = same_encoding(type, format->encoding);
    if (!cookie->passthrough && type != kSMDataFormat16bit) return ERR_SM_FILE_FORMAT;
    FileWriterSettings s;
    s.format = *format;
    s.rate = rate;
    s.sync_interval_s = p->sync_interval > 0 ? p->sync_interval : 0.05;
    if (!file_format_supported(s.format, s.rate, 1)) return ERR_SM_FILE_FORMAT;
    std::string error;
    cookie->writer = FileWriter::open(p->path, s, &error);
    if (!cookie->writer) return ERR_SM_FILE_ACCESS;
    cookie_io_functions_t io{nullptr, cookie_write, nullptr, write_close};
    FILE* f = fopencookie(cookie.get(), "w", io);
    if (!f) return ERR_SM_OS_RESOURCE_PROBLEM;
    cookie.release();
    std::setvbuf(f, nullptr, _IONBF, 0);
    p->fd = f;
    return 0;
  }

  FileReaderSettings rs;
  if (format && (format->container == FileContainer::raw || format->container == FileContainer::vox)) {
    rs.raw_format = format;
    rs.raw_rate = rate;
  }
  std::string error;
  auto cookie = std::make_unique<ReadCookie>();
  cookie->reader = FileReader::open(p->path, rs, &error);
  if (!cookie->reader) {
    std::FILE* probe = std::fopen(p->path, "rb");
    if (!probe) return ERR_SM_FILE_ACCESS;
    std::fclose(probe);
    return ERR_SM_FILE_FORMAT;
  }
  const FileEncoding e = cookie->reader->format().encoding;
  const int type = type_of_encoding(e);
  cookie->passthrough = cookie->reader->channels() == 1 && same_encoding(type, e);
  cookie->oki = cookie->passthrough && e == FileEncoding::oki_adpcm;
  cookie->bytes_per_frame = cookie->passthrough && type != kSMDataFormat16bit ? 1 : 2;
  cookie->loop = p->loop != 0;
  p->type = static_cast<enum kSMDataFormat>(cookie->passthrough ? type : kSMDataFormat16bit);
  p->sampling_rate = cookie->reader->rate();
  cookie_io_functions_t io{cookie_read, nullptr, read_seek, read_close};
  FILE* f = fopencookie(cookie.get(), "r", io);
  if (!f) return ERR_SM_OS_RESOURCE_PROBLEM;
  cookie.release();
  p->fd = f;
  return 0;
}
