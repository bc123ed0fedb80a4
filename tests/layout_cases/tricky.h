// Layout corners that SDK headers of other versions may use.
typedef enum _TRICKY_ENUM { TrickyA = 0, TrickyB = 0xFFFFFFFF } TRICKY_ENUM;

typedef struct _TRICKY_WIDE_BITS
{
    UINT        Low  : 3;
    ULONGLONG   Mid  : 40;
    UINT        High : 5;
    UCHAR       Tail : 2;
} TRICKY_WIDE_BITS;

typedef struct _TRICKY_ZERO_AFTER
{
    UCHAR       a : 3;
    ULONGLONG     : 0;
    UCHAR       b : 2;
    USHORT      c;
} TRICKY_ZERO_AFTER;

typedef struct _TRICKY_ZERO_FIRST
{
    UINT          : 0;
    UCHAR       a : 1;
    USHORT      b;
} TRICKY_ZERO_FIRST;

typedef struct _TRICKY_ENUM_BITS
{
    TRICKY_ENUM Kind   : 4;
    INT         Signed : 3;
    BOOLEAN     Flag   : 1;
    BOOLEAN     Flag2  : 1;
} TRICKY_ENUM_BITS;

typedef union _TRICKY_UNION_BITS
{
    struct { UCHAR a : 4; UCHAR b : 4; };
    struct { USHORT c : 9; ULONGLONG d : 50; };
    UINT Value;
} TRICKY_UNION_BITS;

#pragma pack(push, 1)
typedef struct _TRICKY_PACKED
{
    UCHAR            Head;
    TRICKY_WIDE_BITS Bits;
    union { UINT64 Big; UCHAR Small; };
    UINT             Count : 7;
    UINT             More  : 30;
} TRICKY_PACKED;
#pragma pack(pop)

#pragma pack(push, 2)
typedef struct _TRICKY_PACK2
{
    UCHAR      a;
    ULONGLONG  b;
    UINT       c : 4;
    TRICKY_PACKED p[2];
} TRICKY_PACK2;
#pragma pack(pop)

typedef struct _TRICKY_FLEX
{
    UINT   Count;
    UINT64 Values[1];
} TRICKY_FLEX;

typedef struct _TRICKY_ARRAYS
{
    TRICKY_ENUM_BITS Flags[3];
    UCHAR            Grid[2][3];
    LARGE_INTEGER    Times[2];
    LUID             Luid;
    WCHAR            Name[32];
    HANDLE           hHandle;
    SIZE_T           Size;
} TRICKY_ARRAYS;

typedef struct _TRICKY_FWD TRICKY_FWD, *PTRICKY_FWD;
struct _TRICKY_FWD
{
    PTRICKY_FWD  Next;
    TRICKY_FWD*  Prev;
    UINT         Value;
};

typedef struct _TRICKY_ALIGNED
{
    UCHAR                   a;
    DECLSPEC_ALIGN(16) UINT b;
    UCHAR                   c;
} TRICKY_ALIGNED;

typedef struct _TRICKY_MSVC_INTS
{
    unsigned __int64    Big;
    __int32             Middle;
    signed __int8       Small;
    unsigned __int16    Short : 9;
} TRICKY_MSVC_INTS;
