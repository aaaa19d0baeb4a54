// Board support for Arm's MPS2+ AN500 (Cortex-M7), the board qemu-system-arm
// emulates as `-M mps2-an500`: the vector table, the reset handler (FPU on,
// .data copied from flash, .bss zeroed, static constructors) and output over
// semihosting (run with `-semihosting`; on hardware, a debugger serves it).
#include <stdint.h>
#include <string.h>

#include "board.h"

extern "C" {
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern uint8_t __state_flash_start[], __state_flash_end[];
extern void (*__init_array_start[])(), (*__init_array_end[])();
void Reset_Handler();
void Fault_Handler();
}

namespace {
// Semihosting: bkpt 0xAB with the operation in r0 and its argument in r1.
int Semihost(int op, const void* arg) {
  register int r0 asm("r0") = op;
  register const void* r1 asm("r1") = arg;
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}
constexpr int kWrite0 = 0x04, kExit = 0x18;
constexpr uintptr_t kApplicationExit = 0x20026, kRunTimeErrorUnknown = 0x20023;
}  // namespace

void BoardPrint(const char* text) { Semihost(kWrite0, text); }

FlashRegion BoardStateFlash() {
  return {__state_flash_start, static_cast<size_t>(__state_flash_end - __state_flash_start)};
}

void BoardExit(bool ok) {
  Semihost(kExit, reinterpret_cast<const void*>(ok ? kApplicationExit : kRunTimeErrorUnknown));
  for (;;) {
  }
}

namespace {
// The stack's high-water mark: the 64 KiB below the reset handler's frame are painted before the
// program runs and read after it (a second line, after the report: CI holds it to its budget).
constexpr uint32_t kPaint = 0xA5A5A5A5u;
constexpr size_t kPaintedWords = 64 * 1024 / 4;

__attribute__((noinline)) void PaintStack(uint32_t* below) {
  for (uint32_t* p = below - kPaintedWords; p < below - 16; ++p) *p = kPaint;  // 64 bytes spared for this frame
}
void PrintStackUse(uint32_t* below) {
  const uint32_t* p = below - kPaintedWords;
  while (p < below && *p == kPaint) ++p;
  const uint32_t used = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(&_estack) - reinterpret_cast<uintptr_t>(p));
  char line[32] = "stack_bytes=0x";
  for (int k = 0; k < 8; ++k) line[14 + k] = "0123456789abcdef"[(used >> (28 - 4 * k)) & 0xF];
  line[22] = '\n';
  BoardPrint(line);
}
}  // namespace

extern "C" void Reset_Handler() {
  // Full access to CP10/CP11 (the FPU) before any floating-point instruction.
  volatile uint32_t& cpacr = *reinterpret_cast<volatile uint32_t*>(0xE000ED88);
  cpacr = cpacr | (0xFu << 20);
  asm volatile("dsb\n isb" ::: "memory");
  memcpy(&_sdata, &_sidata, static_cast<size_t>(&_edata - &_sdata) * 4);
  memset(&_sbss, 0, static_cast<size_t>(&_ebss - &_sbss) * 4);
  uint32_t* const frame = static_cast<uint32_t*>(__builtin_frame_address(0));
  PaintStack(frame);
  for (void (**ctor)() = __init_array_start; ctor != __init_array_end; ++ctor) (*ctor)();
  const bool ok = FirmwareMain() == 0;
  PrintStackUse(frame);
  BoardExit(ok);
}

extern "C" void Fault_Handler() {
  BoardPrint("fault\n");
  BoardExit(false);
}

// Initial stack pointer, reset, then NMI, HardFault, MemManage, BusFault, UsageFault.
__attribute__((section(".isr_vector"), used)) void* const g_vectors[16] = {
    &_estack, reinterpret_cast<void*>(Reset_Handler), reinterpret_cast<void*>(Fault_Handler),
    reinterpret_cast<void*>(Fault_Handler), reinterpret_cast<void*>(Fault_Handler),
    reinterpret_cast<void*>(Fault_Handler), reinterpret_cast<void*>(Fault_Handler)};
