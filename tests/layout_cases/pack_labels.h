/*
 * #pragma pack in every form MSVC reads: push/pop with labels (a pop with a
 * label pops down to that push; an unknown label pops nothing), push alone,
 * pop with a value, pack(n), pack(). A record takes the pack in force where it
 * starts; a pragma inside it applies to the records defined after it.
 */
#pragma pack(push, 8)
#pragma pack(push, one, 1)
#pragma pack(push, 2)
#pragma pack(pop, one)
typedef struct _LABEL_POPPED { UCHAR c; UINT x; } LABEL_POPPED;          // pack 8 again
#pragma pack(pop)
#pragma pack(push, 2)
#pragma pack(push, two)
#pragma pack(4)
#pragma pack(pop, two, 1)
typedef struct _LABEL_POP_SET { UCHAR c; UINT x; } LABEL_POP_SET;        // pack 1
#pragma pack(pop, nosuch)
typedef struct _LABEL_UNKNOWN { UCHAR c; UINT x; } LABEL_UNKNOWN;        // still 1
#pragma pack(pop, 4)
typedef struct _LABEL_POP_VALUE { UCHAR c; ULONGLONG x; } LABEL_POP_VALUE;
#pragma pack(push)
#pragma pack(1)
#pragma pack(pop)
typedef struct _LABEL_PUSH_ALONE { UCHAR c; ULONGLONG x; } LABEL_PUSH_ALONE;
#pragma pack()
typedef struct _LABEL_RESET { UCHAR c; ULONGLONG x; } LABEL_RESET;

typedef struct _PACK_INSIDE
{
    UCHAR c;
#pragma pack(push, 1)
    UINT x;                             // the record's own pack: none
    struct { UCHAR d; UINT y; } in;     // starts under pack(1)
#pragma pack(pop)
    UINT z;
} PACK_INSIDE;
