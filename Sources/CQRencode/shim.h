#ifndef DRAWBRIDGE_CQRENCODE_SHIM_H
#define DRAWBRIDGE_CQRENCODE_SHIM_H
#include <qrencode.h>
#endif
