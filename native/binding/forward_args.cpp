#include "forward_args.h"

#include <cstdint>
#include <string>

#include "js_errors.h"
#include "js_values.h"

namespace torchrnn {
namespace binding {

template <class T>
ForwardCall<T> readForwardArgs(const Napi::Value& value, const engine::ModelSpec& spec) {
  const Napi::Env env = value.Env();
  if (!value.IsObject() || value.IsArray()) throw Napi::TypeError::New(env, "forward args must be an object");
  const Napi::Object obj = value.As<Napi::Object>();
  const std::string owner = "args";

  const std::size_t seqLen = readSize(obj, "seqLen", owner, engine::kMaxDimension);
  const std::size_t batch = readSize(obj, "batch", owner, engine::kMaxDimension);
  const bool batchFirst = readBoolean(obj, "batchFirst", owner);
  const auto batchSizes = readOptionalTypedArray<std::int32_t>(obj, "batchSizes", owner);

  ForwardCall<T> call;
  call.inputs.input = readTypedArray<T>(obj.Get("input"), "args.input");
  call.inputs.h0 = readOptionalTypedArray<T>(obj, "h0", owner);
  call.inputs.c0 = readOptionalTypedArray<T>(obj, "c0", owner);
  call.inputs.dropout = readNumber(obj, "dropout", owner);
  call.inputs.dropoutSeed = static_cast<std::uint32_t>(readSize(obj, "dropoutSeed", owner, UINT32_MAX));

  withJsErrors(env, [&] {
    engine::SequenceLayout layout = batchSizes ? engine::SequenceLayout::packed(seqLen, batch, batchFirst, *batchSizes)
                                               : engine::SequenceLayout::padded(seqLen, batch, batchFirst);
    call.plan = engine::planForward(spec, std::move(layout));
    engine::checkForwardInputs(spec, call.plan, call.inputs);
  });
  return call;
}

template ForwardCall<float> readForwardArgs<float>(const Napi::Value&, const engine::ModelSpec&);
template ForwardCall<double> readForwardArgs<double>(const Napi::Value&, const engine::ModelSpec&);

}  // namespace binding
}  // namespace torchrnn
