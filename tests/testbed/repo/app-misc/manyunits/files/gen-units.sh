#!/bin/sh
# gen-units.sh UNITS FUNCTIONS: unit1.c … unitUNITS.c, each holding FUNCTIONS functions of
# looped arithmetic for the optimizer to work through; units.h declaring each unit's
# entry; main.c running every unit over the number given on the command line.
units=$1 functions=$2
: >units.h
{
	echo "#include <stdio.h>"
	echo "#include <stdlib.h>"
	echo "#include \"units.h\""
	echo "int main(int argc, char **argv) {"
	echo "	unsigned long x = argc > 1 ? strtoul(argv[1], 0, 10) : 1;"
} >main.c
i=1
while [ "$i" -le "$units" ]; do
	{
		echo "#include \"units.h\""
		f=1
		while [ "$f" -le "$functions" ]; do
			echo "static unsigned long f${f}(unsigned long x) {"
			echo "	unsigned long a = x * ${f}u + ${i}u, b = x ^ 0x9e3779b97f4a7c15ul;"
			echo "	for (int k = 0; k < 64; k++) {"
			echo "		a = (a << 7 | a >> 57) ^ (b + k * ${f}u);"
			echo "		b = b * 6364136223846793005ul + a;"
			echo "		if ((a & 15u) == ${f}u % 16u) b ^= a >> 3; else a += b >> 5;"
			echo "	}"
			echo "	return a ^ b;"
			echo "}"
			f=$((f + 1))
		done
		echo "unsigned long unit${i}(unsigned long x) {"
		f=1
		while [ "$f" -le "$functions" ]; do
			echo "	x = f${f}(x);"
			f=$((f + 1))
		done
		echo "	return x;"
		echo "}"
	} >"unit${i}.c"
	echo "unsigned long unit${i}(unsigned long x);" >>units.h
	echo "	x = unit${i}(x);" >>main.c
	i=$((i + 1))
done
{
	printf '%s\n' '	printf("%lu\n", x);'
	echo "	return 0;"
	echo "}"
} >>main.c
