// What a recurrent stack is: PyTorch's constructor arguments, checked, and the sizes derived from them.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "../kernels/kernels.h"

namespace torchrnn {
namespace engine {

enum class Mode { Lstm, Gru, RnnTanh, RnnRelu };
enum class DType { Float32, Float64 };

// Largest accepted size or count: int32 range, so no user-given dimension alone can exhaust memory
// arithmetic, and products are checked on top.
constexpr std::size_t kMaxDimension = 2147483647;

struct ModelSpec {
  Mode mode = Mode::Lstm;
  std::size_t inputSize = 0;
  std::size_t hiddenSize = 0;
  std::size_t projSize = 0;  // 0: no projection (LSTM only)
  std::size_t numLayers = 1;
  bool bidirectional = false;
  bool bias = true;
  DType dtype = DType::Float32;
};

// Throws ArgumentError or SizeError naming the offending field.
void validateModelSpec(const ModelSpec& spec);

kernels::CellKind cellKind(Mode mode);
std::size_t gatesPerUnit(const ModelSpec& spec);
std::size_t directionCount(const ModelSpec& spec);
// Hout: the width of h (projSize when projecting, else hiddenSize).
std::size_t stateSize(const ModelSpec& spec);
// Rows of W_ih and W_hh: gates per unit times hiddenSize.
std::size_t gateRows(const ModelSpec& spec);
// In_k: inputSize for layer 0, D * Hout above it.
std::size_t layerInputSize(const ModelSpec& spec, std::size_t layer);

// Parameters per layer and direction (weight_ih, weight_hh, [bias_ih, bias_hh], [weight_hr]).
std::size_t parametersPerDirection(const ModelSpec& spec);
// All parameters of the stack; checked, so it is safe to compare against before listing them.
std::size_t parameterCount(const ModelSpec& spec);

enum class ParameterRole { WeightIh, WeightHh, BiasIh, BiasHh, WeightHr };

struct ParameterShape {
  std::string name;  // PyTorch's name, e.g. "weight_hh_l1_reverse"
  ParameterRole role;
  std::size_t layer;
  std::size_t direction;
  std::size_t rows;
  std::size_t cols;      // 1 for biases
  std::size_t elements;  // rows * cols, checked
};

// Every parameter in PyTorch's named_parameters() order. Call validateModelSpec first.
std::vector<ParameterShape> parameterShapes(const ModelSpec& spec);

const char* modeName(Mode mode);

}  // namespace engine
}  // namespace torchrnn
