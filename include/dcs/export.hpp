// Symbol visibility for libdcs. The library is compiled with hidden visibility so that only the
// API marked DCS_EXPORT is part of the ABI; everything else (the curl wrapper, codecs) stays
// private even in the shared library.
#pragma once

#if defined(DCS_STATIC_DEFINE)
#define DCS_EXPORT
#elif defined(_WIN32)
#if defined(DCS_BUILDING_LIBRARY)
#define DCS_EXPORT __declspec(dllexport)
#else
#define DCS_EXPORT __declspec(dllimport)
#endif
#else
#define DCS_EXPORT __attribute__((visibility("default")))
#endif
