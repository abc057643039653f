#ifndef PARC_CQRENCODE_SHIM_H
#define PARC_CQRENCODE_SHIM_H
#include <qrencode.h>
#endif
