// Uses the C++ standard library (streams, strings, an exception) so it needs libstdc++.
#include <iostream>
#include <stdexcept>
#include <string>

int main() {
	try {
		throw std::runtime_error("C++");
	} catch (const std::exception &error) {
		std::cout << std::string("hello from ") + error.what() << std::endl;
	}
	return 0;
}
