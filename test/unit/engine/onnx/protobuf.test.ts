import { describe, expect, test } from 'vitest';
import { ProtoWriter } from '../../../../src-main/engine/onnx/protobuf.ts';
import { encodeModel } from '../../../../src-main/engine/onnx/onnx-proto.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('ProtoWriter (protobuf wire format)', () => {
  test('varints: the protobuf documentation example 150 and multi-byte values', () => {
    expect(hex(new ProtoWriter().int(1, 150).finish())).toBe('089601');
    expect(hex(new ProtoWriter().int(2, 300).finish())).toBe('10ac02');
    expect(hex(new ProtoWriter().int(1, 2 ** 40).finish())).toBe('08808080808020');
  });

  test("negative int64 uses the 10-byte two's-complement form", () => {
    expect(hex(new ProtoWriter().int(1, -1).finish())).toBe('08ffffffffffffffffff01');
  });

  test('strings, fixed32 floats and packed repeated fields', () => {
    expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('120774657374696e67');
    expect(hex(new ProtoWriter().float(2, 1).finish())).toBe('150000803f');
    expect(hex(new ProtoWriter().packedInts(4, [3, 270, 86942]).finish())).toBe('2206038e029ea705');
  });

  test('rejects integers that lost precision', () => {
    expect(() => new ProtoWriter().int(1, 2 ** 60)).toThrow(RangeError);
  });

  test('a model encodes ir_version first and nests graph and opset messages', () => {
    const bytes = encodeModel({
      irVersion: 11,
      opsets: [{ domain: '', version: 23 }],
      producerName: 'p',
      graph: { name: 'g', nodes: [], initializers: [], inputs: [], outputs: [] },
    });
    // 08 0b (ir 11) · 12 01 'p' · 3a 03 (graph: 12 01 'g') · 42 04 (opset: 0a 00 domain "", 10 17 version 23)
    expect(hex(bytes)).toBe('080b1201703a03120167' + '42040a001017');
  });
});
