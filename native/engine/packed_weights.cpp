#include "packed_weights.h"

#include <algorithm>
#include <string>

#include "../kernels/packing.h"
#include "errors.h"

namespace torchrnn {
namespace engine {

namespace {

// The parameters of one layer and direction, located in the flat list.
template <class T>
struct DirectionParameters {
  const T* weightIh = nullptr;
  const T* weightHh = nullptr;
  const T* biasIh = nullptr;
  const T* biasHh = nullptr;
  const T* weightHr = nullptr;
};

template <class T>
void checkParameterLengths(const std::vector<ParameterShape>& shapes, const std::vector<Span<T>>& parameters) {
  if (parameters.size() != shapes.size())
    throw ArgumentError("weights must hold " + std::to_string(shapes.size()) + " arrays, got " +
                        std::to_string(parameters.size()));
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    if (parameters[i].size != shapes[i].elements)
      throw SizeError("weights[" + std::to_string(i) + "] (" + shapes[i].name + ") must have " +
                      std::to_string(shapes[i].elements) + " elements (" + std::to_string(shapes[i].rows) + " x " +
                      std::to_string(shapes[i].cols) + "), got " + std::to_string(parameters[i].size));
  }
}

template <class T>
void packLayer(const ModelSpec& spec, const kernels::KernelTable<T>& table, std::size_t layer,
               const DirectionParameters<T>* byDirection, PackedLayer<T>& packed) {
  const std::size_t D = directionCount(spec);
  const std::size_t G = gateRows(spec);
  const std::size_t H = spec.hiddenSize;
  const std::size_t Hout = stateSize(spec);
  const std::size_t In = layerInputSize(spec, layer);
  const std::size_t gates = gatesPerUnit(spec);

  // Both directions' W_ih stacked, so one GEMM projects the input for both.
  packed.inputSize = In;
  AlignedArray<T> stacked(checkedMul(D * G, In, "weight_ih"));
  for (std::size_t d = 0; d < D; ++d)
    std::copy(byDirection[d].weightIh, byDirection[d].weightIh + G * In, stacked.data() + d * G * In);
  packed.wih = AlignedArray<T>(kernels::gemmPanelsSize(D * G, In, table.gemmPanelCols));
  kernels::packGemmPanels(stacked.data(), D * G, In, table.gemmPanelCols, packed.wih.data());

  packed.foldedBias = AlignedArray<T>(D * G);
  std::fill(packed.foldedBias.data(), packed.foldedBias.data() + D * G, T(0));
  for (std::size_t d = 0; d < D; ++d) {
    const DirectionParameters<T>& p = byDirection[d];
    PackedDirection<T>& out = packed.directions[d];
    T* bias = packed.foldedBias.data() + d * G;
    out.bhn = AlignedArray<T>(H);
    std::fill(out.bhn.data(), out.bhn.data() + H, T(0));
    if (spec.bias) {
      const bool gru = spec.mode == Mode::Gru;
      const std::size_t hiddenFoldedRows = gru ? 2 * H : G;  // GRU's n rows keep b_hn apart
      for (std::size_t r = 0; r < G; ++r) bias[r] = r < hiddenFoldedRows ? p.biasIh[r] + p.biasHh[r] : p.biasIh[r];
      if (gru) std::copy(p.biasHh + 2 * H, p.biasHh + 3 * H, out.bhn.data());
    }
    out.whh = AlignedArray<T>(kernels::recurrentPanelsSize(gates, H, Hout, table.recurrentPanelUnits));
    kernels::packRecurrentPanels(p.weightHh, gates, H, Hout, table.recurrentPanelUnits, out.whh.data());
    if (spec.projSize > 0) {
      out.whr = AlignedArray<T>(kernels::gemmPanelsSize(spec.projSize, H, table.gemmPanelCols));
      kernels::packGemmPanels(p.weightHr, spec.projSize, H, table.gemmPanelCols, out.whr.data());
    }
  }
}

}  // namespace

template <class T>
std::shared_ptr<const PackedWeights<T>> packWeights(const ModelSpec& spec, const std::vector<Span<T>>& parameters) {
  validateModelSpec(spec);
  const DType expected = sizeof(T) == sizeof(float) ? DType::Float32 : DType::Float64;
  if (spec.dtype != expected) throw ArgumentError("weights do not match spec.dtype");
  if (parameters.size() != parameterCount(spec))
    throw ArgumentError("weights must hold " + std::to_string(parameterCount(spec)) + " arrays, got " +
                        std::to_string(parameters.size()));
  const std::vector<ParameterShape> shapes = parameterShapes(spec);
  checkParameterLengths(shapes, parameters);

  auto packed = std::make_shared<PackedWeights<T>>();
  packed->spec = spec;
  packed->kernels = &kernels::selectKernels<T>();
  packed->layers.resize(spec.numLayers);

  std::size_t next = 0;
  for (std::size_t layer = 0; layer < spec.numLayers; ++layer) {
    DirectionParameters<T> byDirection[2];
    for (std::size_t d = 0; d < directionCount(spec); ++d) {
      for (std::size_t i = 0; i < parametersPerDirection(spec); ++i, ++next) {
        const T* data = parameters[next].data;
        switch (shapes[next].role) {
          case ParameterRole::WeightIh: byDirection[d].weightIh = data; break;
          case ParameterRole::WeightHh: byDirection[d].weightHh = data; break;
          case ParameterRole::BiasIh: byDirection[d].biasIh = data; break;
          case ParameterRole::BiasHh: byDirection[d].biasHh = data; break;
          case ParameterRole::WeightHr: byDirection[d].weightHr = data; break;
        }
      }
    }
    packLayer(spec, *packed->kernels, layer, byDirection, packed->layers[layer]);
  }
  return packed;
}

template std::shared_ptr<const PackedWeights<float>> packWeights<float>(const ModelSpec&,
                                                                        const std::vector<Span<float>>&);
template std::shared_ptr<const PackedWeights<double>> packWeights<double>(const ModelSpec&,
                                                                          const std::vector<Span<double>>&);

}  // namespace engine
}  // namespace torchrnn
