#include "model_spec.h"

#include <algorithm>

#include "checked_math.h"
#include "errors.h"

namespace torchrnn {
namespace engine {

namespace {

void checkDimension(std::size_t value, const char* field) {
  if (value > kMaxDimension)
    throw SizeError(std::string("spec.") + field + " must be at most " + std::to_string(kMaxDimension) + ", got " +
                    std::to_string(value));
}

}  // namespace

const char* modeName(Mode mode) {
  switch (mode) {
    case Mode::Lstm: return "LSTM";
    case Mode::Gru: return "GRU";
    case Mode::RnnTanh: return "RNN_TANH";
    case Mode::RnnRelu: return "RNN_RELU";
  }
  return "?";
}

kernels::CellKind cellKind(Mode mode) {
  switch (mode) {
    case Mode::Lstm: return kernels::CellKind::Lstm;
    case Mode::Gru: return kernels::CellKind::Gru;
    case Mode::RnnTanh: return kernels::CellKind::RnnTanh;
    case Mode::RnnRelu: return kernels::CellKind::RnnRelu;
  }
  return kernels::CellKind::RnnTanh;
}

void validateModelSpec(const ModelSpec& spec) {
  checkDimension(spec.inputSize, "inputSize");
  checkDimension(spec.hiddenSize, "hiddenSize");
  checkDimension(spec.projSize, "projSize");
  checkDimension(spec.numLayers, "numLayers");
  if (spec.numLayers < 1)
    throw SizeError("spec.numLayers must be at least 1, got " + std::to_string(spec.numLayers));
  if (spec.projSize > 0) {
    if (spec.mode != Mode::Lstm)
      throw ArgumentError(std::string("spec.projSize is only supported for LSTM, not ") + modeName(spec.mode));
    if (spec.projSize >= spec.hiddenSize)
      throw SizeError("spec.projSize must be smaller than spec.hiddenSize (" + std::to_string(spec.hiddenSize) +
                      "), got " + std::to_string(spec.projSize));
  }
  // Every weight's element count, and the widest layer input, must be representable.
  (void)parameterCount(spec);
  const std::size_t widest = std::max(spec.inputSize, checkedMul(directionCount(spec), stateSize(spec), "layer input size"));
  const std::size_t rows = checkedMul(gatesPerUnit(spec), spec.hiddenSize, "gate rows");
  (void)checkedMul(checkedMul(rows, directionCount(spec), "gate rows"), widest, "weight_ih element count");
  (void)checkedMul(rows, stateSize(spec), "weight_hh element count");
}

std::size_t gatesPerUnit(const ModelSpec& spec) { return kernels::gatesPerUnit(cellKind(spec.mode)); }
std::size_t directionCount(const ModelSpec& spec) { return spec.bidirectional ? 2 : 1; }
std::size_t stateSize(const ModelSpec& spec) { return spec.projSize > 0 ? spec.projSize : spec.hiddenSize; }
std::size_t gateRows(const ModelSpec& spec) { return gatesPerUnit(spec) * spec.hiddenSize; }

std::size_t layerInputSize(const ModelSpec& spec, std::size_t layer) {
  return layer == 0 ? spec.inputSize : directionCount(spec) * stateSize(spec);
}

std::size_t parametersPerDirection(const ModelSpec& spec) {
  return 2 + (spec.bias ? 2 : 0) + (spec.projSize > 0 ? 1 : 0);
}

std::size_t parameterCount(const ModelSpec& spec) {
  return checkedMul(spec.numLayers, directionCount(spec), parametersPerDirection(spec), "parameter count");
}

std::vector<ParameterShape> parameterShapes(const ModelSpec& spec) {
  std::vector<ParameterShape> shapes;
  shapes.reserve(parameterCount(spec));
  const std::size_t G = gateRows(spec);
  const std::size_t H = spec.hiddenSize;
  const std::size_t Hout = stateSize(spec);
  for (std::size_t layer = 0; layer < spec.numLayers; ++layer) {
    for (std::size_t d = 0; d < directionCount(spec); ++d) {
      const std::string suffix = "_l" + std::to_string(layer) + (d == 1 ? "_reverse" : "");
      auto add = [&](const char* base, ParameterRole role, std::size_t rows, std::size_t cols) {
        shapes.push_back({base + suffix, role, layer, d, rows, cols, checkedMul(rows, cols, base)});
      };
      add("weight_ih", ParameterRole::WeightIh, G, layerInputSize(spec, layer));
      add("weight_hh", ParameterRole::WeightHh, G, Hout);
      if (spec.bias) {
        add("bias_ih", ParameterRole::BiasIh, G, 1);
        add("bias_hh", ParameterRole::BiasHh, G, 1);
      }
      if (spec.projSize > 0) add("weight_hr", ParameterRole::WeightHr, spec.projSize, H);
    }
  }
  return shapes;
}

}  // namespace engine
}  // namespace torchrnn
