# Cross-compile for the Raspberry Pi 5 (arm64) with Debian's cross toolchain
# and multiarch libraries (dpkg --add-architecture arm64; lib*-dev:arm64).
# Tests run under qemu-user through CMAKE_CROSSCOMPILING_EMULATOR, so
# `ctest` works unchanged in the cross build directory.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
