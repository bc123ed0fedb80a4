/*
 * 64-bit members on x86: MSVC aligns ULONGLONG, LONGLONG and DOUBLE to 8 bytes
 * inside records on x86 too (GCC's i386 ABI uses 4); pointers and
 * pointer-sized integers are 4 bytes on x86 and 8 on x64.
 */
#ifndef _INT64_ON_X86_H_
#define _INT64_ON_X86_H_

typedef struct _MIXED64
{
    UINT64 a;
    UINT   b;
} MIXED64;

typedef struct _INT64_AFTER_UINT
{
    UINT      Count;
    ULONGLONG Total;            // byte 8 on both ABIs
    DOUBLE    Ratio;
} INT64_AFTER_UINT;

typedef struct _WITH_LARGE_INTEGER
{
    UINT          Flags;
    LARGE_INTEGER Time;         // byte 8 on both ABIs
} WITH_LARGE_INTEGER;

typedef struct _POINTER_SIZED
{
    UINT      Count;
    HANDLE    hObject;          // byte 8 on x64, 4 on x86
    ULONG_PTR Cookie;
    VOID*     pData;
} POINTER_SIZED;

#endif // _INT64_ON_X86_H_
