/**
 * Tensors: the Tensor class, its dtypes and the functions over tensors.
 *
 * @packageDocumentation
 */
export { Tensor, type NestedArray, type NestedNumbers, type NestedOf, type NestedValues, type SumDType } from './tensor';
export { tensor } from './create';
export { isDType, isFloatDType, TORCH_TYPE_NAMES, type DType, type FloatDType, type TensorData, type AnyTensorData, type FloatTensorData, type DTypeArrays, type TensorDType } from './dtype';
export type { Scalar } from './scalar';
export { cat, stack, split, chunk } from './shape';
export { sigmoid, tanh, relu, gelu, softmax, logSoftmax, type GeluApproximate } from './activation';
export { matmul } from './matmul';
export type { Dims } from './reduce';
