/**
 * Which int8 GEMM kernel onnxruntime's MLAS runs on this CPU for DynamicQuantizeMatMul (u8
 * activations × s8 weights), read from the CPU flags the way MLAS's own dispatch reads CPUID
 * (onnxruntime/core/mlas/lib/platform.cpp):
 * - AMX-INT8 → the AMX tile kernel (tdpbusd); AVX512-VNNI or AVX-VNNI → vpdpbusd(s): one
 *   instruction per 4 u8·s8 products, summed in int32, no intermediate saturation;
 * - AVX2 (or AVX512 without VNNI) only → vpmaddubsw + vpmaddwd: pairs of u8·s8 products summed
 *   in a *saturating int16*, so full-range s8 weights can clip (ORT's docs recommend 7-bit
 *   "reduce_range" weights there), and 3 instructions where VNNI needs 1;
 * - arm64 → NEON (udot/sdot or i8mm where present, else widening multiplies; no saturation).
 * Fast mode runs only where the kernel sums without saturating and is measured faster than fp32
 * (VNNI/AMX); elsewhere the engine runs exact and says why. Measured on AVX2 without VNNI (AMD
 * EPYC, 2 vCPUs): at BERT-base 8×32 the int8 product ran at 1.11× the fp32 one and the whole probe
 * at 1.03–1.06× exact, for 200 MiB more peak RSS; and the saturation showed: on BERT-base random
 * one top-k order in 21,268 cells differed from exact and max |Δ log p| was 0.0044 (AMX: none,
 * 0.0004). The reference model's figures were AMX's to the last digit.
 * With AVX512-VNNI (AMD EPYC Zen 5) fast mode ran at 1.81× exact at BERT-base 8×32, with AMX's agreement.
 */
import * as fs from 'node:fs';

export interface Int8Kernel {
  /** What MLAS runs, in words, e.g. "MLAS U8S8 AVX512-VNNI (vpdpbusd)". */
  name: string;
  /** Fast mode is used on this CPU. */
  fast: boolean;
  /** Why not, when `fast` is false. */
  reason?: string;
}

export function int8KernelFor(arch: string, cpuFlags: Set<string> | undefined): Int8Kernel {
  if (arch === 'arm64') return { name: 'MLAS NEON int8 (udot/sdot or i8mm where present)', fast: true };
  if (arch !== 'x64') return { name: `no int8 kernel measured for ${arch}`, fast: false, reason: `fast mode is measured only on x64 with VNNI/AMX and arm64, not on ${arch}` };
  if (!cpuFlags) {
    return { name: 'unknown (CPU flags not readable)', fast: false, reason: 'the CPU flags could not be read to confirm VNNI/AMX int8 instructions' };
  }
  if (cpuFlags.has('amx_int8')) return { name: 'MLAS U8S8 AMX (tdpbusd)', fast: true };
  if (cpuFlags.has('avx512_vnni')) return { name: 'MLAS U8S8 AVX512-VNNI (vpdpbusds)', fast: true };
  if (cpuFlags.has('avx_vnni')) return { name: 'MLAS U8S8 AVX-VNNI (vpdpbusds)', fast: true };
  const simd = cpuFlags.has('avx512bw') ? 'AVX512 without VNNI' : cpuFlags.has('avx2') ? 'AVX2' : 'SSE';
  return {
    name: `MLAS U8S8 ${simd} (vpmaddubsw, int16 saturating)`,
    fast: false,
    reason: `this CPU has ${simd} but no VNNI/AMX int8 instructions, where onnxruntime's int8 kernel sums in saturating int16 and measured no faster than fp32 (1.06× at BERT-base 8×32, for 200 MiB more memory) and less accurate`,
  };
}

/** The flags line of /proc/cpuinfo (Linux); undefined elsewhere or when unreadable. */
export function readCpuFlags(cpuinfo = '/proc/cpuinfo'): Set<string> | undefined {
  try {
    const line = fs.readFileSync(cpuinfo, 'utf8').split('\n').find((l) => /^flags\s*:/.test(l));
    return line ? new Set(line.replace(/^flags\s*:/, '').trim().split(/\s+/)) : undefined;
  } catch {
    return undefined;
  }
}

let cached: Int8Kernel | undefined;

/** This machine's int8 kernel (read once). */
export function localInt8Kernel(): Int8Kernel {
  cached ??= int8KernelFor(process.arch, process.platform === 'linux' ? readCpuFlags() : undefined);
  return cached;
}
