/*
 * Bit-fields of mixed declared types. MSVC allocates bit-fields in units of
 * their declared type and starts a new unit whenever the type's size changes
 * (signedness alone does not matter); GCC and ctypes before Python 3.14 do not.
 */
#ifndef _MIXED_BITFIELDS_H_
#define _MIXED_BITFIELDS_H_

typedef struct _MIXED_BITFIELDS
{
    UCHAR Small : 1;            // one UCHAR unit at byte 0
    UINT  Large : 1;            // type size changes: a UINT unit at byte 4
} MIXED_BITFIELDS, *PMIXED_BITFIELDS;

typedef struct _SAME_SIZE_BITFIELDS
{
    UINT  First  : 4;
    INT   Signed : 4;           // INT is as wide as UINT: same unit
    ULONG Rest   : 24;          // ULONG too: the unit is now full
} SAME_SIZE_BITFIELDS;

typedef struct _SHORT_CHAR_SHORT
{
    USHORT A : 4;               // USHORT unit at byte 0
    UCHAR  B : 4;               // UCHAR unit at byte 2
    USHORT C : 4;               // USHORT unit at byte 4
} SHORT_CHAR_SHORT;

typedef struct _OVERFLOWING_UNIT
{
    UINT Low  : 30;
    UINT High : 4;              // does not fit in the first UINT: next unit
} OVERFLOWING_UNIT;

typedef struct _WIDE_BITFIELDS
{
    ULONGLONG Address : 40;
    ULONGLONG Count   : 30;     // 40 + 30 > 64: a second ULONGLONG unit
    UCHAR     Tag;
} WIDE_BITFIELDS;

typedef struct _BITFIELD_AFTER_MEMBER
{
    UCHAR Plain;
    UCHAR Bits : 3;             // a bit-field after a plain member: byte 1
    UINT  Value;
} BITFIELD_AFTER_MEMBER;

#endif // _MIXED_BITFIELDS_H_
