/** Small ONNX models for the loading tests, written with onnx-proto as the training script does. */
import onnxProto from 'onnx-proto'
import type { onnx as OnnxTypes } from 'onnx-proto'
import { writeFileSync } from 'node:fs'

const { onnx } = onnxProto
const FLOAT = onnx.TensorProto.DataType.FLOAT

function info (name: string, dims: (number | string)[]): OnnxTypes.IValueInfoProto {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map(d => typeof d === 'number' ? { dimValue: d } : { dimParam: d }) } } } }
}

/**
 * out = ReduceMean(input) × factor, named and shaped as asked: with the contract's names and
 * shapes it is a valid (if crude) forecaster.
 */
export function meanModel (file: string, o: { input?: string, output?: string, window?: number, outWidth?: number, factor?: number } = {}): string {
  const input = o.input ?? 'rates'
  const output = o.output ?? 'rate'
  const outWidth = o.outWidth ?? 1
  const nodes: OnnxTypes.INodeProto[] = [
    { opType: 'ReduceMean', input: [input], output: ['m'], attribute: [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] }, { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
    { opType: 'Mul', input: ['m', 'factor'], output: [outWidth === 1 ? output : 'y'] },
  ]
  if (outWidth !== 1) nodes.push({ opType: 'Tile', input: ['y', 'reps'], output: [output] })
  const model: OnnxTypes.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'test',
      input: [info(input, ['batch', o.window ?? 16])],
      output: [info(output, ['batch', outWidth])],
      initializer: [
        { name: 'factor', dims: [1], dataType: FLOAT, floatData: [o.factor ?? 1] },
        { name: 'reps', dims: [2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [1, outWidth] },
      ],
      node: nodes,
    },
  }
  writeFileSync(file, onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish())
  return file
}
