/*
 * #pragma pack caps member alignment; push/pop nest, and a record that
 * contains a packed record keeps that record's (smaller) alignment.
 */
#ifndef _PACK_H_
#define _PACK_H_

#pragma pack(1)
typedef struct _PACKED_1
{
    UCHAR  Tag;
    UINT   Value;               // byte 1
    USHORT Count;               // byte 5
} PACKED_1;

typedef struct _PACKED_1_BITFIELDS
{
    UCHAR Small : 1;
    UINT  Large : 1;            // new unit, aligned to 1: byte 1
} PACKED_1_BITFIELDS;
#pragma pack()

#pragma pack(push, 4)
typedef struct _PACKED_4
{
    UCHAR     Tag;
    ULONGLONG Value;            // capped at 4: byte 4
} PACKED_4;

#pragma pack(push, 2)
typedef struct _PACKED_2
{
    UCHAR Tag;
    UINT  Value;                // byte 2
} PACKED_2;
#pragma pack(pop)

typedef struct _PACKED_4_AGAIN
{
    UCHAR     Tag;
    ULONGLONG Value;            // after the pop: capped at 4 again
} PACKED_4_AGAIN;
#pragma pack(pop)

typedef struct _NATURAL
{
    UCHAR     Tag;
    ULONGLONG Value;            // natural alignment again: byte 8
    PACKED_1  Packed;           // alignment 1: right after Value
} NATURAL;

#endif // _PACK_H_
