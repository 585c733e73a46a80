// formats.cpp - the file formats by name, and how libsndfile spells them.
#include <sndfile.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "files/sndfile_format.hpp"
#include "prosody/files.hpp"

namespace prosody {

namespace {

struct NamedFormat {
  const char* name;
  FileFormat format;
};

constexpr NamedFormat kFormats[] = {
    {"wav", {FileContainer::wav, FileEncoding::pcm16}},
    {"wav-alaw", {FileContainer::wav, FileEncoding::alaw}},
    {"wav-ulaw", {FileContainer::wav, FileEncoding::ulaw}},
    {"wav-ima-adpcm", {FileContainer::wav, FileEncoding::ima_adpcm}},
    {"wav-u8", {FileContainer::wav, FileEncoding::pcm_u8}},
    {"au", {FileContainer::au, FileEncoding::pcm16}},
    {"au-alaw", {FileContainer::au, FileEncoding::alaw}},
    {"au-ulaw", {FileContainer::au, FileEncoding::ulaw}},
    {"raw", {FileContainer::raw, FileEncoding::pcm16}},
    {"raw-alaw", {FileContainer::raw, FileEncoding::alaw}},
    {"raw-ulaw", {FileContainer::raw, FileEncoding::ulaw}},
    {"raw-u8", {FileContainer::raw, FileEncoding::pcm_u8}},
    {"raw-s8", {FileContainer::raw, FileEncoding::pcm_s8}},
    {"vox", {FileContainer::vox, FileEncoding::oki_adpcm}},
    {"flac", {FileContainer::flac, FileEncoding::flac}},
    {"opus", {FileContainer::ogg, FileEncoding::opus}},
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

}  // namespace

std::optional<FileFormat> parse_file_format(const std::string& name) {
  const std::string n = lower(name);
  for (const auto& f : kFormats)
    if (n == f.name) return f.format;
  return std::nullopt;
}

std::string file_format_name(FileFormat format) {
  for (const auto& f : kFormats)
    if (f.format == format) return f.name;
  return "unknown";
}

std::vector<std::string> file_format_names() {
  std::vector<std::string> names;
  for (const auto& f : kFormats) names.emplace_back(f.name);
  return names;
}

std::optional<FileFormat> file_format_for_path(const std::string& path) {
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return std::nullopt;
  const std::string ext = lower(path.substr(dot + 1));
  if (ext == "wav") return FileFormat{FileContainer::wav, FileEncoding::pcm16};
  if (ext == "au" || ext == "snd") return FileFormat{FileContainer::au, FileEncoding::pcm16};
  if (ext == "raw" || ext == "pcm" || ext == "sln") return FileFormat{FileContainer::raw, FileEncoding::pcm16};
  if (ext == "alaw" || ext == "al") return FileFormat{FileContainer::raw, FileEncoding::alaw};
  if (ext == "ulaw" || ext == "ul") return FileFormat{FileContainer::raw, FileEncoding::ulaw};
  if (ext == "vox") return FileFormat{FileContainer::vox, FileEncoding::oki_adpcm};
  if (ext == "flac") return FileFormat{FileContainer::flac, FileEncoding::flac};
  if (ext == "opus" || ext == "ogg") return FileFormat{FileContainer::ogg, FileEncoding::opus};
  return std::nullopt;
}

namespace files {

int sndfile_format(FileFormat f) {
  int container = 0;
  switch (f.container) {
    case FileContainer::wav:
      container = SF_FORMAT_WAV;
      break;
    case FileContainer::au:
      container = SF_FORMAT_AU;
      break;
    case FileContainer::raw:
    case FileContainer::vox:
      container = SF_FORMAT_RAW;
      break;
    case FileContainer::flac:
      container = SF_FORMAT_FLAC;
      break;
    case FileContainer::ogg:
      container = SF_FORMAT_OGG;
      break;
  }
  int encoding = 0;
  switch (f.encoding) {
    case FileEncoding::pcm16:
    case FileEncoding::flac:
      encoding = SF_FORMAT_PCM_16;
      break;
    case FileEncoding::alaw:
      encoding = SF_FORMAT_ALAW;
      break;
    case FileEncoding::ulaw:
      encoding = SF_FORMAT_ULAW;
      break;
    case FileEncoding::pcm_u8:
      encoding = SF_FORMAT_PCM_U8;
      break;
    case FileEncoding::pcm_s8:
      encoding = SF_FORMAT_PCM_S8;
      break;
    case FileEncoding::ima_adpcm:
      encoding = SF_FORMAT_IMA_ADPCM;
      break;
    case FileEncoding::oki_adpcm:
      encoding = SF_FORMAT_VOX_ADPCM;
      break;
    case FileEncoding::opus:
      encoding = SF_FORMAT_OPUS;
      break;
  }
  return container | encoding;
}

std::optional<FileFormat> format_of_sndfile(int sf) {
  FileFormat f;
  switch (sf & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX:
      f.container = FileContainer::wav;
      break;
    case SF_FORMAT_AU:
      f.container = FileContainer::au;
      break;
    case SF_FORMAT_RAW:
      f.container = (sf & SF_FORMAT_SUBMASK) == SF_FORMAT_VOX_ADPCM ? FileContainer::vox : FileContainer::raw;
      break;
    case SF_FORMAT_FLAC:
      f.container = FileContainer::flac;
      break;
    case SF_FORMAT_OGG:
      f.container = FileContainer::ogg;
      break;
    default:
      return std::nullopt;
  }
  switch (sf & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_16:
      f.encoding = f.container == FileContainer::flac ? FileEncoding::flac : FileEncoding::pcm16;
      break;
    case SF_FORMAT_ALAW:
      f.encoding = FileEncoding::alaw;
      break;
    case SF_FORMAT_ULAW:
      f.encoding = FileEncoding::ulaw;
      break;
    case SF_FORMAT_PCM_U8:
      f.encoding = FileEncoding::pcm_u8;
      break;
    case SF_FORMAT_PCM_S8:
      f.encoding = FileEncoding::pcm_s8;
      break;
    case SF_FORMAT_IMA_ADPCM:
      f.encoding = FileEncoding::ima_adpcm;
      break;
    case SF_FORMAT_VOX_ADPCM:
      f.encoding = FileEncoding::oki_adpcm;
      break;
    case SF_FORMAT_OPUS:
      f.encoding = FileEncoding::opus;
      break;
    default:
      // Readable all the same (24-bit, float, Vorbis...), as 16-bit PCM.
      f.encoding = f.container == FileContainer::flac ? FileEncoding::flac : FileEncoding::pcm16;
      break;
  }
  return f;
}

}  // namespace files

bool file_format_supported(FileFormat format, unsigned rate, unsigned channels, std::string* why) {
  auto fail = [&](const char* text) {
    if (why) *why = text;
    return false;
  };
  if (channels < 1 || channels > 8) return fail("1 to 8 channels");
  if (rate < 1000 || rate > 192000) return fail("the rate is not 1000..192000 Hz");
  if (format.container == FileContainer::flac) return true;  // libFLAC: any rate and channel count here
  if (format.encoding == FileEncoding::oki_adpcm && channels != 1) return fail("VOX (OKI ADPCM) is mono only");
  if (format.encoding == FileEncoding::opus && rate != 8000 && rate != 12000 && rate != 16000 && rate != 24000 &&
      rate != 48000)
    return fail("Opus takes 8, 12, 16, 24 or 48 kHz");
  SF_INFO info{};
  info.samplerate = int(rate);
  info.channels = int(channels);
  info.format = files::sndfile_format(format);
  if (!sf_format_check(&info)) return fail("libsndfile cannot write this container and encoding");
  return true;
}

}  // namespace prosody
