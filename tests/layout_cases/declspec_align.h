/*
 * __declspec(align(n)) (DECLSPEC_ALIGN) where MSVC reads it: on a record (before
 * or after the keyword, in a typedef or not), on a union, on an anonymous member
 * (the member's record gets it), on a typedef (a scalar's or a record's), and on
 * members, up to 64 and past what ctypes before Python 3.13 can express.
 */
typedef struct __declspec(align(16)) _ALIGNED_AFTER_KEYWORD { UINT a; } ALIGNED_AFTER_KEYWORD;
typedef __declspec(align(16)) struct _ALIGNED_BEFORE_KEYWORD { UINT a; } ALIGNED_BEFORE_KEYWORD;
typedef struct DECLSPEC_ALIGN(16) _ALIGNED_MACRO { UINT a; } ALIGNED_MACRO;
typedef union DECLSPEC_ALIGN(32) _ALIGNED_UNION { UINT a; UCHAR b[3]; } ALIGNED_UNION;
struct DECLSPEC_ALIGN(64) _ALIGNED_TAG_ONLY { UCHAR a; };
typedef struct _ALIGNED_TAG_ONLY ALIGNED_TAG_ONLY;
typedef struct __declspec(align(16)) __declspec(align(32)) _ALIGNED_TWICE { ULONGLONG n; } ALIGNED_TWICE;
typedef struct __declspec(align(2)) _ALIGNED_BELOW_NATURAL { ULONGLONG n; } ALIGNED_BELOW_NATURAL;

typedef __declspec(align(16)) UINT ALIGNED_UINT;
typedef UINT DECLSPEC_ALIGN(32) ALIGNED_UINT_AFTER;
typedef ALIGNED_UINT ALIGNED_UINT_AGAIN;
typedef struct _SMALL { UCHAR q; } SMALL;
typedef __declspec(align(16)) SMALL ALIGNED_SMALL, ALIGNED_SMALL_TOO;

typedef struct _ALIGNED_MEMBERS
{
    UCHAR                   c;
    ALIGNED_UINT            m;          // byte 16
    UCHAR                   d;          // byte 20
    ALIGNED_UINT_AFTER      e;          // byte 32
    ALIGNED_UINT_AGAIN      f;
    ALIGNED_SMALL           g;          // byte 48, one byte
    ALIGNED_SMALL_TOO       h;
    struct DECLSPEC_ALIGN(8) { UCHAR q; };          // the record is aligned: 8 bytes
    __declspec(align(8)) union { UCHAR r; } u;      // the same, written before
    _Alignas(8) struct { UCHAR s; } v;              // C11: only the member is aligned
    DECLSPEC_ALIGN(64) UCHAR w;
    alignas(32) USHORT x;
    ALIGNED_UNION           y;
} ALIGNED_MEMBERS;

// Under #pragma pack an aligned record keeps its alignment, and its members
// are packed; one inside a packed record keeps its whole alignment.
#pragma pack(push, 1)
typedef struct __declspec(align(4)) _PACKED_ALIGNED { UCHAR c; UINT x; USHORT s; ULONGLONG n; } PACKED_ALIGNED;
typedef struct _PACKED_HOLDER
{
    UCHAR c;
    PACKED_ALIGNED a;                   // byte 4
    struct __declspec(align(2)) { UCHAR e; UINT y; } in;
    ALIGNED_UINT m;                     // byte 32
    ALIGNED_BELOW_NATURAL n;            // its alignment (8), not its declspec's
} PACKED_HOLDER;
#pragma pack(pop)

// An empty record with a __declspec(align(n)) of 4 or more is n bytes.
typedef struct _EMPTY_ALIGNED_MEMBER
{
    UCHAR c;
    DECLSPEC_ALIGN(16) union { UCHAR : 0; };
    UCHAR d;
} EMPTY_ALIGNED_MEMBER;

// The same under #pragma pack (found by the fuzzer: the filler was counted twice).
#pragma pack(push, 2)
typedef __declspec(align(16)) struct _EMPTY_PACKED_ALIGNED { UCHAR : 0; } EMPTY_PACKED_ALIGNED;
typedef struct _EMPTY_PACKED_HOLDER { UCHAR c; EMPTY_PACKED_ALIGNED e; UINT d; } EMPTY_PACKED_HOLDER;
#pragma pack(pop)
