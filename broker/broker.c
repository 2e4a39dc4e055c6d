#include "broker.h"

#include <stdarg.h>
#include <stdio.h>

cJSON *qc_broker_error(const char *code, const char *fmt, ...)
{
    char message[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    return qc_outbox_error(code, message);
}
