/**
 * Writes the forecast model as an ONNX file with onnx-proto (the ONNX protobuf schema for
 * JavaScript). The graph normalises the window by its mean, applies the linear model and scales
 * back, so its input and output are plain requests/s:
 *
 *   scale = max(mean(rates), eps);  rate = (rates / scale · W + b) · scale
 *
 * Opset 13, float32. protobufjs encodes fields in a fixed order, so the same weights give the
 * same bytes.
 */
import onnxProto from 'onnx-proto'
import type { onnx as OnnxTypes } from 'onnx-proto'
import { FORECAST_MODEL } from '../../node/core/forecast-limits.js'

const { onnx } = onnxProto

/** ONNX IR version 7 goes with opset 13 (onnx 1.8), which every onnxruntime since 1.6 reads. */
const IR_VERSION = 7
const OPSET = 13
/** Below this mean rate (requests/s) the window is not normalised further: an idle window forecasts ~0. */
const SCALE_FLOOR_PER_S = 1e-3

export interface LinearForecast {
  /** One weight per input step, oldest first. */
  weights: Float64Array
  bias: number
  /** Model card facts, stored as metadata. */
  metadata: Record<string, string>
}

function floatTensor (name: string, dims: number[], values: ArrayLike<number>): OnnxTypes.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(Float32Array.from(values)) }
}

function valueInfo (name: string, dims: (number | string)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map(d => typeof d === 'number' ? { dimValue: d } : { dimParam: d }) } } },
  }
}

export function linearForecastOnnx (m: LinearForecast): Uint8Array {
  const n = m.weights.length
  const input = FORECAST_MODEL.inputName
  const output = FORECAST_MODEL.outputName
  const graph: OnnxTypes.IGraphProto = {
    name: 'agentmesh_load_forecast',
    input: [valueInfo(input, ['batch', n])],
    output: [valueInfo(output, ['batch', 1])],
    initializer: [
      floatTensor('scale_floor', [1], [SCALE_FLOOR_PER_S]),
      floatTensor('W', [n, 1], m.weights),
      floatTensor('b', [1], [m.bias]),
    ],
    node: [
      { opType: 'ReduceMean', input: [input], output: ['mean'], name: 'mean', attribute: [
        { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] },
        { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
      ] },
      { opType: 'Max', input: ['mean', 'scale_floor'], output: ['scale'], name: 'scale' },
      { opType: 'Div', input: [input, 'scale'], output: ['z'], name: 'normalise' },
      { opType: 'MatMul', input: ['z', 'W'], output: ['zw'], name: 'linear' },
      { opType: 'Add', input: ['zw', 'b'], output: ['y'], name: 'bias' },
      { opType: 'Mul', input: ['y', 'scale'], output: [output], name: 'denormalise' },
    ],
  }
  const model: OnnxTypes.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'agentmesh',
    producerVersion: '1',
    docString: 'agentmesh load forecast: the next step\'s mean arrival rate (requests/s) from the last window of rates. See docs/forecast.md.',
    graph,
    metadataProps: Object.keys(m.metadata).sort().map(key => ({ key, value: m.metadata[key] })),
  }
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish()
}

/** The same arithmetic as the graph, in float64 (for the training report; the benchmark runs the real model). */
export function linearForecast (m: LinearForecast, window: ArrayLike<number>): number {
  let sum = 0
  for (let i = 0; i < window.length; i++) sum += window[i]
  const scale = Math.max(sum / window.length, SCALE_FLOOR_PER_S)
  let y = m.bias
  for (let i = 0; i < window.length; i++) y += window[i] / scale * m.weights[i]
  return y * scale
}
