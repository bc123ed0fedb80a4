/*
 * Unnamed bit-fields. A ": 0" member closes the current bit-field unit, so the
 * next bit-field starts a new one; unnamed members are no attributes.
 */
#ifndef _ZERO_WIDTH_H_
#define _ZERO_WIDTH_H_

typedef struct _ZERO_WIDTH
{
    UINT Before : 3;
    UINT        : 0;            // closes the first UINT unit
    UINT After  : 3;            // bit 32
} ZERO_WIDTH, *PZERO_WIDTH;

typedef struct _UNNAMED_PADDING
{
    UINT Low  : 4;
    UINT      : 4;              // eight bits of padding inside the unit
    UINT High : 4;              // bit 8
} UNNAMED_PADDING;

typedef union _ZERO_WIDTH_IN_UNION
{
    struct
    {
        UINT Flag0 : 1;
        UINT       : 0;
        UINT Flag1 : 1;
    };
    ULONGLONG Value;
} ZERO_WIDTH_IN_UNION;

#endif // _ZERO_WIDTH_H_
