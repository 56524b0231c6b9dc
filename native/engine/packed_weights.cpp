#include "packed_weights.h"

#include <algorithm>
#include <string>

#include "../kernels/packing.h"
#include "../kernels/reduced_precision.h"
#include "checked_math.h"
#include "errors.h"

namespace torchrnn {
namespace engine {

namespace {

// The parameters of one layer and direction, located in the flat list.
template <class T>
struct DirectionParameters {
  WeightSource<T> weightIh;
  WeightSource<T> weightHh;
  const T* biasIh = nullptr;
  const T* biasHh = nullptr;
  WeightSource<T> weightHr;
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

  // Both directions' W_ih stacked, so one GEMM projects the input for both. Rows are independent in every
  // format (an int8 row carries its own scale), so stacking the stored values stacks the matrices.
  packed.inputSize = In;
  const kernels::WeightFormat format = byDirection[0].weightIh.format;
  const std::size_t elementBytes = format == kernels::WeightFormat::Float32 ? sizeof(T) : kernels::bytesPerWeight(format);
  AlignedArray<unsigned char> stacked(checkedMul(D * G, In, elementBytes, "weight_ih"));
  AlignedArray<float> stackedScales(format == kernels::WeightFormat::Int8 ? D * G : 0);
  for (std::size_t d = 0; d < D; ++d) {
    const WeightSource<T>& w = byDirection[d].weightIh;
    const auto* from = static_cast<const unsigned char*>(w.values);
    if (G * In > 0) std::copy(from, from + G * In * elementBytes, stacked.data() + d * G * In * elementBytes);
    if (w.scales) std::copy(w.scales, w.scales + G, stackedScales.data() + d * G);
  }
  WeightSource<T> both{format, stacked.data(), D * G * In, stackedScales.data(), stackedScales.size()};
  packed.wih = PackedMatrix<T>::gemm(both, D * G, In, table.gemmPanelCols);

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
    out.whh = PackedMatrix<T>::recurrent(p.weightHh, gates, H, Hout, table.recurrentPanelUnits);
    if (spec.projSize > 0) out.whr = PackedMatrix<T>::gemm(p.weightHr, spec.projSize, H, table.gemmPanelCols);
  }
}

// Packs every layer from sources already checked against parameterShapes(spec).
template <class T>
std::shared_ptr<const PackedWeights<T>> packSources(const ModelSpec& spec, kernels::WeightFormat format,
                                                    const kernels::KernelTable<T>& table,
                                                    const std::vector<ParameterShape>& shapes,
                                                    const std::vector<WeightSource<T>>& parameters) {
  auto packed = std::make_shared<PackedWeights<T>>();
  packed->spec = spec;
  packed->format = format;
  packed->kernels = &table;
  packed->layers.resize(spec.numLayers);

  std::size_t next = 0;
  for (std::size_t layer = 0; layer < spec.numLayers; ++layer) {
    DirectionParameters<T> byDirection[2];
    for (std::size_t d = 0; d < directionCount(spec); ++d) {
      for (std::size_t i = 0; i < parametersPerDirection(spec); ++i, ++next) {
        const WeightSource<T>& source = parameters[next];
        switch (shapes[next].role) {
          case ParameterRole::WeightIh: byDirection[d].weightIh = source; break;
          case ParameterRole::WeightHh: byDirection[d].weightHh = source; break;
          case ParameterRole::BiasIh: byDirection[d].biasIh = static_cast<const T*>(source.values); break;
          case ParameterRole::BiasHh: byDirection[d].biasHh = static_cast<const T*>(source.values); break;
          case ParameterRole::WeightHr: byDirection[d].weightHr = source; break;
        }
      }
    }
    packLayer(spec, table, layer, byDirection, packed->layers[layer]);
  }
  return packed;
}

bool isMatrix(ParameterRole role) {
  return role == ParameterRole::WeightIh || role == ParameterRole::WeightHh || role == ParameterRole::WeightHr;
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
  std::vector<WeightSource<T>> sources(parameters.size());
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    sources[i].values = parameters[i].data;
    sources[i].size = parameters[i].size;
  }
  return packSources(spec, kernels::WeightFormat::Float32, kernels::selectKernels<T>(), shapes, sources);
}

std::shared_ptr<const PackedWeights<float>> packReducedWeights(const ModelSpec& spec, kernels::WeightFormat format,
                                                               const std::vector<WeightSource<float>>& parameters) {
  validateModelSpec(spec);
  if (spec.dtype != DType::Float32) throw ArgumentError("reduced-precision weights need a float32 spec");
  if (format == kernels::WeightFormat::Float32) throw ArgumentError("packReducedWeights: float32 is not reduced");
  if (parameters.size() != parameterCount(spec))
    throw ArgumentError("weights must hold " + std::to_string(parameterCount(spec)) + " arrays, got " +
                        std::to_string(parameters.size()));
  const std::vector<ParameterShape> shapes = parameterShapes(spec);
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const ParameterShape& shape = shapes[i];
    const WeightSource<float>& p = parameters[i];
    const std::string name = "weights[" + std::to_string(i) + "] (" + shape.name + ")";
    const kernels::WeightFormat wanted = isMatrix(shape.role) ? format : kernels::WeightFormat::Float32;
    if (p.format != wanted)
      throw ArgumentError(name + " must be " + kernels::weightFormatName(wanted) + ", got " +
                          kernels::weightFormatName(p.format));
    if (p.size != shape.elements)
      throw SizeError(name + " must have " + std::to_string(shape.elements) + " elements (" +
                      std::to_string(shape.rows) + " x " + std::to_string(shape.cols) + "), got " +
                      std::to_string(p.size));
    // An empty matrix has an empty scale array, which JS hands over without a data pointer.
    if (p.format == kernels::WeightFormat::Int8 && (p.scaleCount != shape.rows || (shape.rows > 0 && p.scales == nullptr)))
      throw SizeError(name + " must have " + std::to_string(shape.rows) + " scales, got " + std::to_string(p.scaleCount));
  }
  return packSources(spec, format, kernels::reducedKernels(format), shapes, parameters);
}

template std::shared_ptr<const PackedWeights<float>> packWeights<float>(const ModelSpec&,
                                                                        const std::vector<Span<float>>&);
template std::shared_ptr<const PackedWeights<double>> packWeights<double>(const ModelSpec&,
                                                                          const std::vector<Span<double>>&);

}  // namespace engine
}  // namespace torchrnn
