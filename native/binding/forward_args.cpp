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

  // 1. Every property, read before any view is taken: each Get may run a getter or a Proxy trap, which could
  // detach, transfer or shrink (resizable ArrayBuffer) a buffer already viewed. Scalars are checked strictly
  // (IsNumber / IsBoolean, never ToNumber), so reading them runs no further user code.
  const std::size_t seqLen = readSize(obj, "seqLen", owner, engine::kMaxDimension);
  const std::size_t batch = readSize(obj, "batch", owner, engine::kMaxDimension);
  const bool batchFirst = readBoolean(obj, "batchFirst", owner);
  const Napi::Value batchSizesValue = obj.Get("batchSizes");
  const Napi::Value inputValue = obj.Get("input");
  const Napi::Value h0Value = obj.Get("h0");
  const Napi::Value c0Value = obj.Get("c0");
  const double dropout = readNumber(obj, "dropout", owner);
  const auto dropoutSeed = static_cast<std::uint32_t>(readSize(obj, "dropoutSeed", owner, UINT32_MAX));

  // 2. Views, then every length check: no JS runs from here until the caller is done with the views (the
  // engine has run, or forwardAsync has copied them). A resizable or length-tracking buffer is read at its
  // current length, which then cannot change; a detached one reads as length 0 and fails the checks.
  const auto batchSizes = readOptionalTypedArray<std::int32_t>(batchSizesValue, owner + ".batchSizes");
  ForwardCall<T> call;
  call.inputs.input = readTypedArray<T>(inputValue, owner + ".input");
  call.inputs.h0 = readOptionalTypedArray<T>(h0Value, owner + ".h0");
  call.inputs.c0 = readOptionalTypedArray<T>(c0Value, owner + ".c0");
  call.inputs.dropout = dropout;
  call.inputs.dropoutSeed = dropoutSeed;

  withJsErrors(env, [&] {
    // The layout copies batchSizes: the plan holds no view of JS memory.
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
