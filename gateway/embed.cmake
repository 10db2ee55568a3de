# Embeds a file as a C byte array: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake
# (defines `const unsigned char NAME[]` and `const unsigned long NAME_len`).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "/* Generated from ${IN} by gateway/embed.cmake; do not edit. */\n"
     "const unsigned char ${NAME}[] = {${bytes}0x00};\n"
     "const unsigned long ${NAME}_len = ${len};\n")
