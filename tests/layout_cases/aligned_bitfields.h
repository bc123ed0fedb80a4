/*
 * __declspec(align(n)) on a bit-field aligns the unit it starts (not one it
 * continues), even under #pragma pack, gives a union nothing, and is required
 * by nothing outside: a record holding one under pack aligns it to the pack.
 */
typedef __declspec(align(16)) UCHAR ALIGNED_CHAR;

typedef struct _BITS_ALIGNED { UCHAR c; __declspec(align(16)) UINT b : 3; UCHAR d; } BITS_ALIGNED;
typedef struct _BITS_CONTINUED { UINT a : 3; __declspec(align(16)) UINT b : 3; UCHAR d; } BITS_CONTINUED;
typedef struct _BITS_NEW_UNIT { UCHAR c; UINT a : 3; __declspec(align(16)) USHORT b : 3; UCHAR d; } BITS_NEW_UNIT;
typedef union _BITS_UNION { UCHAR c; __declspec(align(16)) UINT b : 3; } BITS_UNION;
typedef struct _BITS_ZERO { UCHAR c; UINT a : 2; __declspec(align(16)) UINT : 0; UCHAR d; } BITS_ZERO;
typedef struct _BITS_TYPEDEF { UCHAR c; ALIGNED_CHAR w : 3; } BITS_TYPEDEF;

#pragma pack(push, 2)
typedef struct _BITS_PACKED { UCHAR c; __declspec(align(16)) UINT b : 3; UCHAR d; } BITS_PACKED;
typedef union _BITS_PACKED_UNION { UCHAR c; __declspec(align(16)) UINT b : 3; } BITS_PACKED_UNION;
typedef struct _BITS_PACKED_HOLDER { UCHAR c; BITS_ALIGNED u; } BITS_PACKED_HOLDER;
typedef struct _BITS_PACKED_TYPEDEF { UCHAR c; ALIGNED_CHAR w : 3; } BITS_PACKED_TYPEDEF;
#pragma pack(pop)

// pack(8) caps nothing on x86 (MSVC ignores a pack wider than a pointer), so an
// anonymous member aligned by a bit-field keeps 64 there, and 8 on x64.
#pragma pack(push, 8)
typedef struct _BITS_PACK8
{
    PVOID m;
    struct { INT a : 3; DECLSPEC_ALIGN(64) ULONGLONG b : 27; };
} BITS_PACK8;
#pragma pack(pop)
#pragma pack(push, 16)
typedef struct _BITS_PACK16 { PVOID m; struct { DECLSPEC_ALIGN(32) UINT b : 27; }; } BITS_PACK16;
#pragma pack(pop)
