/*
 * Array lengths that take a sizeof have a value per ABI; a typedef'd array of
 * records is usable as a member.
 */
typedef struct _SIZED_BY_POINTERS
{
    UCHAR   c;
    BYTE    r[sizeof(PVOID) * 2];
    UCHAR   d[sizeof(ULONGLONG) / sizeof(USHORT) - 1];
    HANDLE  h[(sizeof(HANDLE) > 4) ? 1 : 3];
    SIZE_T  s[sizeof(SIZE_T)];
} SIZED_BY_POINTERS;

typedef struct _SIZED_BY_RECORD
{
    UCHAR   c;
    UCHAR   buf[sizeof(SIZED_BY_POINTERS)];
    USHORT  words[(sizeof(SIZED_BY_POINTERS) + 1) / 2][2];
} SIZED_BY_RECORD;

typedef LARGE_INTEGER TWO_TIMES[2];
typedef TWO_TIMES TWO_TIMES_AGAIN;
typedef SIZED_BY_POINTERS POINTER_RECORDS[3];
typedef struct _RECORD_ARRAYS
{
    UCHAR           c;
    TWO_TIMES       times;
    TWO_TIMES_AGAIN again[2];
    POINTER_RECORDS records;
    TWO_TIMES *     pointer;
} RECORD_ARRAYS;
