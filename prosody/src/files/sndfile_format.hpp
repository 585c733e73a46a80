// sndfile_format.hpp - our file formats as libsndfile's format codes.
#pragma once

#include <optional>

#include "prosody/files.hpp"

namespace prosody::files {

// SF_FORMAT_* container | encoding.
int sndfile_format(FileFormat format);
// The format of a file libsndfile opened, or none if it is not one of ours.
std::optional<FileFormat> format_of_sndfile(int sf_format);

}  // namespace prosody::files
