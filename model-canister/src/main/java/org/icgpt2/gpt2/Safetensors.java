package org.icgpt2.gpt2;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.icgpt2.gpt2.ModelFormatException.Reason;

/**
 * The index of a safetensors file: an 8-byte little-endian header length, a JSON header
 * {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}} and the data, with offsets relative
 * to the end of the header. The whole layout is validated when opened; tensors are then read one at a time as f32.
 */
public final class Safetensors {
    /** The reference implementation's limit; a larger header means a corrupt length. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    /** Bytes converted per read for F16/BF16 tensors. */
    private static final int CONVERT_CHUNK_ELEMENTS = 16384;
    private static final String PREFIX = "transformer.";

    /** One tensor entry; {@code begin}/{@code end} are absolute file offsets. */
    public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private final TensorSource source;
    private final Map<String, TensorInfo> tensors;
    private byte[] convertBuffer;

    private Safetensors(TensorSource source, Map<String, TensorInfo> tensors) {
        this.source = source;
        this.tensors = tensors;
    }

    /** Reads and validates the header. */
    public static Safetensors open(TensorSource source) {
        long fileSize = source.size();
        if (fileSize < 8) {
            throw new ModelFormatException(Reason.TRUNCATED, "header", "file has " + fileSize + " bytes, fewer than the 8-byte header length");
        }
        byte[] lengthBytes = new byte[8];
        source.readBytes(0, lengthBytes, 0, 8);
        long headerLength = 0;
        for (int i = 7; i >= 0; i--) {
            headerLength = headerLength << 8 | (lengthBytes[i] & 0xFF);
        }
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
            throw new ModelFormatException(Reason.BAD_HEADER_LENGTH, "header",
                    "length " + Long.toUnsignedString(headerLength) + " is outside [2, " + MAX_HEADER_BYTES + "]");
        }
        if (headerLength > fileSize - 8) {
            throw new ModelFormatException(Reason.TRUNCATED, "header",
                    "header needs " + headerLength + " bytes but the file has " + (fileSize - 8) + " after the length");
        }
        byte[] headerBytes = new byte[(int) headerLength];
        source.readBytes(8, headerBytes, 0, headerBytes.length);
        Map<String, Object> header = Json.parseObject(new String(headerBytes, StandardCharsets.UTF_8), "safetensors header");

        long dataStart = 8 + headerLength;
        Map<String, TensorInfo> tensors = new HashMap<>();
        for (Map.Entry<String, Object> e : header.entrySet()) {
            if (!e.getKey().equals("__metadata__")) {
                TensorInfo t = parseEntry(e.getKey(), e.getValue(), dataStart);
                String shortName = stripPrefix(t.name);
                if (tensors.containsKey(shortName)) {
                    throw new ModelFormatException(Reason.DUPLICATE_NAME, t.name, "present with and without the '" + PREFIX + "' prefix");
                }
                tensors.put(shortName, t);
            }
        }
        checkLayout(new ArrayList<>(tensors.values()), dataStart, fileSize);
        return new Safetensors(source, tensors);
    }

    private static TensorInfo parseEntry(String name, Object value, long dataStart) {
        if (!(value instanceof Map)) {
            throw new ModelFormatException(Reason.BAD_HEADER, name, "entry is not an object");
        }
        Map<String, Object> o = Json.asObject(value, name);
        if (!(o.get("dtype") instanceof String) || !(o.get("shape") instanceof List) || !(o.get("data_offsets") instanceof List)) {
            throw new ModelFormatException(Reason.BAD_HEADER, name, "entry needs dtype, shape and data_offsets");
        }
        String dtype = (String) o.get("dtype");
        int elementSize = dtypeSize(dtype);
        if (elementSize == 0) {
            throw new ModelFormatException(Reason.UNSUPPORTED_DTYPE, name, "unknown dtype " + dtype);
        }
        List<Object> shapeList = Json.asList(o.get("shape"), name);
        long[] shape = new long[shapeList.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            Object d = shapeList.get(i);
            if (!(d instanceof Long) || (Long) d < 0 || (Long) d > Integer.MAX_VALUE) {
                throw new ModelFormatException(Reason.BAD_HEADER, name, "bad shape " + shapeList);
            }
            shape[i] = (Long) d;
            count *= shape[i];
            if (count > Integer.MAX_VALUE) {
                throw new ModelFormatException(Reason.BAD_HEADER, name, "shape " + shapeList + " is too large");
            }
        }
        List<Object> offsets = Json.asList(o.get("data_offsets"), name);
        if (offsets.size() != 2 || !(offsets.get(0) instanceof Long) || !(offsets.get(1) instanceof Long)
                || (Long) offsets.get(0) < 0 || (Long) offsets.get(1) < 0) {
            throw new ModelFormatException(Reason.BAD_HEADER, name, "data_offsets must be two non-negative integers, got " + offsets);
        }
        long begin = (Long) offsets.get(0);
        long end = (Long) offsets.get(1);
        if (begin > end) {
            throw new ModelFormatException(Reason.BAD_OFFSETS, name, "begin " + begin + " > end " + end);
        }
        if (end - begin != count * elementSize) {
            throw new ModelFormatException(Reason.SIZE_MISMATCH, name,
                    (end - begin) + " bytes but shape " + shapeList + " of " + dtype + " needs " + count * elementSize);
        }
        return new TensorInfo(name, dtype, shape, dataStart + begin, dataStart + end);
    }

    /** Rejects overlapping ranges and ranges past the end; a contiguous layout that runs past the end is a truncated file. */
    private static void checkLayout(List<TensorInfo> list, long dataStart, long fileSize) {
        list.sort((a, b) -> Long.compare(a.begin, b.begin));
        long expectedBegin = dataStart;
        boolean contiguous = true;
        for (int i = 0; i < list.size(); i++) {
            TensorInfo t = list.get(i);
            if (i > 0 && t.begin < list.get(i - 1).end) {
                throw new ModelFormatException(Reason.OVERLAPPING_OFFSETS, t.name, "overlaps '" + list.get(i - 1).name + "'");
            }
            contiguous &= t.begin == expectedBegin;
            expectedBegin = t.end;
            if (t.end > fileSize) {
                String detail = "data_offsets end at " + (t.end - dataStart) + " but the data section has " + (fileSize - dataStart) + " bytes";
                throw new ModelFormatException(contiguous ? Reason.TRUNCATED : Reason.OFFSET_OUT_OF_RANGE, t.name, detail);
            }
        }
    }

    /** Bytes per element, or 0 for an unknown dtype. */
    static int dtypeSize(String dtype) {
        switch (dtype) {
            case "F64": case "I64": case "U64": return 8;
            case "F32": case "I32": case "U32": return 4;
            case "F16": case "BF16": case "I16": case "U16": return 2;
            case "I8": case "U8": case "BOOL": case "F8_E4M3": case "F8_E5M2": return 1;
            default: return 0;
        }
    }

    private static String stripPrefix(String name) {
        return name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
    }

    /** The entry for a name given without the {@code transformer.} prefix (the file may have it or not). */
    public TensorInfo tensor(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFormatException(Reason.MISSING_TENSOR, name, "not in the file (with or without the '" + PREFIX + "' prefix)");
        }
        return t;
    }

    /** The entry for a float tensor the model needs: checks that it exists, has this shape and a float dtype. */
    public TensorInfo floatTensor(String name, long[] expectedShape) {
        TensorInfo t = tensor(name);
        if (!sameShape(t.shape, expectedShape)) {
            throw new ModelFormatException(Reason.WRONG_SHAPE, t.name,
                    "shape " + shapeString(t.shape) + " but the config needs " + shapeString(expectedShape));
        }
        if (!t.dtype.equals("F32") && !t.dtype.equals("F16") && !t.dtype.equals("BF16")) {
            throw new ModelFormatException(Reason.UNSUPPORTED_DTYPE, t.name, t.dtype + " weights are not supported (F32, F16, BF16 are)");
        }
        return t;
    }

    /** Reads a float tensor (checked as by {@link #floatTensor}) into {@code dst[dstOff...]} as f32, converting F16/BF16. */
    public void readF32(String name, long[] expectedShape, float[] dst, int dstOff) {
        TensorInfo t = floatTensor(name, expectedShape);
        int count = (int) t.elementCount();
        if (t.dtype.equals("F32")) {
            source.readFloats(t.begin, dst, dstOff, count);
        } else {
            readHalf(t, dst, dstOff, count, t.dtype.equals("BF16"));
        }
    }

    private void readHalf(TensorInfo t, float[] dst, int dstOff, int count, boolean bfloat) {
        if (convertBuffer == null) {
            convertBuffer = new byte[2 * CONVERT_CHUNK_ELEMENTS];
        }
        for (int done = 0; done < count; done += CONVERT_CHUNK_ELEMENTS) {
            int n = count - done < CONVERT_CHUNK_ELEMENTS ? count - done : CONVERT_CHUNK_ELEMENTS;
            source.readBytes(t.begin + 2L * done, convertBuffer, 0, 2 * n);
            for (int i = 0; i < n; i++) {
                int bits = (convertBuffer[2 * i] & 0xFF) | (convertBuffer[2 * i + 1] & 0xFF) << 8;
                dst[dstOff + done + i] = bfloat ? Float.intBitsToFloat(bits << 16) : halfToFloat(bits);
            }
        }
    }

    /** IEEE 754 binary16 to binary32, exact for normals, subnormals, infinities and NaN. */
    static float halfToFloat(int bits) {
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | mantissa << 13);
        }
        if (exponent == 0) {
            float magnitude = mantissa * (1.0f / (1 << 24)); // subnormal: mantissa * 2^-24, exact in f32
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | (exponent + 112) << 23 | mantissa << 13);
    }

    private static boolean sameShape(long[] a, long[] b) {
        if (a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (a[i] != b[i]) {
                return false;
            }
        }
        return true;
    }

    private static String shapeString(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ",").append(shape[i]);
        }
        return sb.append(']').toString();
    }
}
