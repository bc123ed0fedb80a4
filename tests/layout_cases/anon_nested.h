/*
 * Anonymous records lift their members into the parent; named members of
 * record type are entered with a dotted path; a named struct declared inside
 * another record is a record of the header too.
 */
#ifndef _ANON_NESTED_H_
#define _ANON_NESTED_H_

typedef struct _ANON_NESTED
{
    UINT Id;
    union
    {
        struct
        {
            UINT Primary   : 1;
            UINT Secondary : 1;
            UINT Reserved  : 30;
        };
        UINT Value;
    };
    union
    {
        struct
        {
            UINT Lo;
            UINT Hi;
        } Parts;
        ULONGLONG QuadPart;
    } u;
    LARGE_INTEGER Time;
    struct _INNER_NAMED
    {
        USHORT a;
        USHORT b;
    } Inner;
} ANON_NESTED, *PANON_NESTED;

typedef union _ANON_IN_UNION
{
    struct
    {
        union
        {
            UCHAR  Byte;
            USHORT Word;
        };
        USHORT Next;
    };
    UINT All;
} ANON_IN_UNION;

#endif // _ANON_NESTED_H_
