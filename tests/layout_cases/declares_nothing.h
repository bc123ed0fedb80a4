/*
 * A member that declares nothing (a type but no name, not a struct or union)
 * is dropped, as clang drops it with a warning; a bare #pragma is no directive
 * at all.
 */
#pragma
typedef struct _NOTHING_DECLARED { UCHAR a; UINT; USHORT b; } NOTHING_DECLARED;
typedef union _NOTHING_IN_UNION { ULONGLONG; UCHAR c; } NOTHING_IN_UNION;
typedef struct _NOTHING_BUT_PADDING { UCHAR a; UINT : 3; ULONGLONG; UCHAR d; } NOTHING_BUT_PADDING;
