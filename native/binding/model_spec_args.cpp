#include "model_spec_args.h"

#include <string>

#include "js_values.h"

namespace torchrnn {
namespace binding {

engine::ModelSpec readModelSpec(const Napi::Value& value) {
  const Napi::Env env = value.Env();
  if (!value.IsObject() || value.IsArray()) throw Napi::TypeError::New(env, "spec must be an object");
  const Napi::Object obj = value.As<Napi::Object>();
  const std::string owner = "spec";
  engine::ModelSpec spec;

  const std::string mode = readString(obj, "mode", owner);
  if (mode == "LSTM") spec.mode = engine::Mode::Lstm;
  else if (mode == "GRU") spec.mode = engine::Mode::Gru;
  else if (mode == "RNN_TANH") spec.mode = engine::Mode::RnnTanh;
  else if (mode == "RNN_RELU") spec.mode = engine::Mode::RnnRelu;
  else throw Napi::TypeError::New(env, "spec.mode must be 'LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU', got '" + mode + "'");

  const std::string dtype = readString(obj, "dtype", owner);
  if (dtype == "float32") spec.dtype = engine::DType::Float32;
  else if (dtype == "float64") spec.dtype = engine::DType::Float64;
  else throw Napi::TypeError::New(env, "spec.dtype must be 'float32' or 'float64', got '" + dtype + "'");

  spec.inputSize = readSize(obj, "inputSize", owner, engine::kMaxDimension);
  spec.hiddenSize = readSize(obj, "hiddenSize", owner, engine::kMaxDimension);
  spec.projSize = readSize(obj, "projSize", owner, engine::kMaxDimension);
  spec.numLayers = readSize(obj, "numLayers", owner, engine::kMaxDimension);
  spec.bidirectional = readBoolean(obj, "bidirectional", owner);
  spec.bias = readBoolean(obj, "bias", owner);
  return spec;
}

}  // namespace binding
}  // namespace torchrnn
