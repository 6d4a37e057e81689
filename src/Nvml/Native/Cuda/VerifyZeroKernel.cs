namespace SecureDra.Nvml.Native.Cuda;

/// <summary>
/// The on-device verification kernel, as hand-written PTX (ISA 6.0, sm_52) so any driver since
/// CUDA 9 JITs it for whatever GPU is present and the build needs no CUDA toolkit.
/// <c>securedra_or_reduce_u32(u32* buffer, u64 words, u32* flag)</c>: a grid-stride loop ORs every
/// 32-bit word of the buffer (16-byte vector loads, then a scalar tail) into a register and, when the
/// result is not zero, atomically ORs it into <c>*flag</c>. The host zeroes the flag, launches, and
/// reads it back: zero means every word of the buffer was zero.
/// </summary>
public static class VerifyZeroKernel
{
    public const string EntryName = "securedra_or_reduce_u32";

    public const int ThreadsPerBlock = 256;

    public const string Ptx = """
        .version 6.0
        .target sm_52
        .address_size 64

        .visible .entry securedra_or_reduce_u32(
            .param .u64 securedra_or_reduce_u32_param_0,
            .param .u64 securedra_or_reduce_u32_param_1,
            .param .u64 securedra_or_reduce_u32_param_2
        )
        {
            .reg .pred  %p<4>;
            .reg .b32   %r<16>;
            .reg .b64   %rd<20>;

            ld.param.u64        %rd1, [securedra_or_reduce_u32_param_0];
            ld.param.u64        %rd2, [securedra_or_reduce_u32_param_1];
            ld.param.u64        %rd3, [securedra_or_reduce_u32_param_2];
            cvta.to.global.u64  %rd4, %rd1;
            cvta.to.global.u64  %rd5, %rd3;
            mov.u32             %r1, %ctaid.x;
            mov.u32             %r2, %ntid.x;
            mov.u32             %r3, %tid.x;
            mov.u32             %r4, %nctaid.x;
            mul.wide.u32        %rd6, %r1, %r2;
            cvt.u64.u32         %rd7, %r3;
            add.s64             %rd8, %rd6, %rd7;
            mul.wide.u32        %rd9, %r4, %r2;
            shr.u64             %rd10, %rd2, 2;
            mov.b32             %r5, 0;
            mov.u64             %rd11, %rd8;
            setp.ge.u64         %p1, %rd11, %rd10;
            @%p1 bra            $L_tail;
        $L_vec:
            shl.b64             %rd12, %rd11, 4;
            add.s64             %rd13, %rd4, %rd12;
            ld.global.v4.u32    {%r6, %r7, %r8, %r9}, [%rd13];
            or.b32              %r5, %r5, %r6;
            or.b32              %r5, %r5, %r7;
            or.b32              %r5, %r5, %r8;
            or.b32              %r5, %r5, %r9;
            add.s64             %rd11, %rd11, %rd9;
            setp.lt.u64         %p2, %rd11, %rd10;
            @%p2 bra            $L_vec;
        $L_tail:
            shl.b64             %rd14, %rd10, 2;
            add.s64             %rd15, %rd14, %rd8;
            setp.ge.u64         %p1, %rd15, %rd2;
            @%p1 bra            $L_flag;
        $L_scalar:
            shl.b64             %rd16, %rd15, 2;
            add.s64             %rd17, %rd4, %rd16;
            ld.global.u32       %r10, [%rd17];
            or.b32              %r5, %r5, %r10;
            add.s64             %rd15, %rd15, %rd9;
            setp.lt.u64         %p2, %rd15, %rd2;
            @%p2 bra            $L_scalar;
        $L_flag:
            setp.eq.s32         %p3, %r5, 0;
            @%p3 bra            $L_done;
            atom.global.or.b32  %r11, [%rd5], %r5;
        $L_done:
            ret;
        }

        """;
}
