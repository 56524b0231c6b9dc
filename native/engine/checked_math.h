// Size arithmetic that refuses to wrap: every product of user-given sizes goes through here.
#pragma once

#include <cstddef>
#include <limits>
#include <string>

#include "errors.h"

namespace torchrnn {
namespace engine {

inline std::size_t checkedMul(std::size_t a, std::size_t b, const char* what) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a)
    throw SizeError(std::string(what) + " is too large: " + std::to_string(a) + " * " + std::to_string(b) +
                    " overflows");
  return a * b;
}

inline std::size_t checkedMul(std::size_t a, std::size_t b, std::size_t c, const char* what) {
  return checkedMul(checkedMul(a, b, what), c, what);
}

inline std::size_t checkedAdd(std::size_t a, std::size_t b, const char* what) {
  if (b > std::numeric_limits<std::size_t>::max() - a)
    throw SizeError(std::string(what) + " is too large: " + std::to_string(a) + " + " + std::to_string(b) +
                    " overflows");
  return a + b;
}

}  // namespace engine
}  // namespace torchrnn
