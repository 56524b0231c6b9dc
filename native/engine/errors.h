// The two ways a request can be wrong; the binding turns them into TypeError and RangeError.
#pragma once

#include <stdexcept>
#include <string>

namespace torchrnn {
namespace engine {

// A value of the wrong kind or an inconsistent combination (e.g. projSize on a GRU).
class ArgumentError : public std::invalid_argument {
 public:
  explicit ArgumentError(const std::string& what) : std::invalid_argument(what) {}
};

// A size out of range, a length that does not match its shape, or a product too large to represent.
class SizeError : public std::length_error {
 public:
  explicit SizeError(const std::string& what) : std::length_error(what) {}
};

}  // namespace engine
}  // namespace torchrnn
