// A header that, like the SDK's, uses wdm.h types without declaring them.
typedef struct _GRAPHICSPOWER_LIKE
{
    PVOID               DeviceHandle;
    DEVICE_POWER_STATE  InitialGrfxPowerState;
    POWER_ACTION        Action;
} GRAPHICSPOWER_LIKE;
