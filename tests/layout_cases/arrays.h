/*
 * Arrays: multi-dimensional, of records (listed as one member, not entered),
 * of characters, and the one-element "variable length" tail.
 */
#ifndef _ARRAYS_H_
#define _ARRAYS_H_

typedef struct _POINT3
{
    LONG x;
    LONG y;
    LONG z;
} POINT3;

typedef struct _ARRAYS
{
    UCHAR  Bytes[3];
    UINT   Matrix[2][3];        // byte 4, 24 bytes
    POINT3 Points[4];           // byte 28, 48 bytes
    USHORT Tail;                // byte 76
} ARRAYS;

typedef struct _NAMED_BUFFER
{
    WCHAR     Name[MAX_PATH];   // 520 bytes
    ULONGLONG Values[2][2];     // byte 520
} NAMED_BUFFER;

typedef struct _VARIABLE_TAIL
{
    UINT   Count;
    POINT3 Items[ANYSIZE_ARRAY];
} VARIABLE_TAIL;

#endif // _ARRAYS_H_
