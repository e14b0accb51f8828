/*
 * Test-only stand-in for Windows' bcryptprimitives.dll, which Debian's Wine 8
 * lacks. Go's Windows runtime loads ProcessPrng from it in system32 and will
 * not start without it. This shim forwards to RtlGenRandom
 * (SystemFunction036 in advapi32), which Wine has. It is built into a test's
 * Wine prefix by packaging_test.go and never ships.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
	while (length > 0) {
		ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		length -= n;
	}
	return TRUE;
}
