/* webd: answers every HTTP request with one file and appends a line to a log file.
 * Usage: webd PORT PAGE LOG */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void answer(int client, const char *page, const char *log) {
	char request[2048], body[8192];
	ssize_t got = read(client, request, sizeof request - 1);
	FILE *in = fopen(page, "r");
	size_t size = in ? fread(body, 1, sizeof body, in) : 0;
	if (in)
		fclose(in);
	char head[256];
	int head_size = snprintf(head, sizeof head,
		"HTTP/1.0 %s\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n\r\n",
		in ? "200 OK" : "404 Not Found", size);
	write(client, head, (size_t)head_size);
	write(client, body, size);
	FILE *out = fopen(log, "a");
	if (out) {
		request[got > 0 ? got : 0] = '\0';
		request[strcspn(request, "\r\n")] = '\0';
		fprintf(out, "%s\n", request);
		fclose(out);
	}
}

static void stop(int signal_number) {
	(void)signal_number;
	_exit(0);
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: webd PORT PAGE LOG\n");
		return 2;
	}
	FILE *check = fopen(argv[3], "a");
	if (!check) {
		perror(argv[3]);
		return 1;
	}
	fclose(check);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, stop); /* as PID 1, only handled signals stop it */
	int server = socket(AF_INET6, SOCK_STREAM, 0);
	int yes = 1, no = 0;
	setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
	setsockopt(server, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
	struct sockaddr_in6 address = {.sin6_family = AF_INET6, .sin6_port = htons(atoi(argv[1]))};
	if (bind(server, (struct sockaddr *)&address, sizeof address) || listen(server, 16)) {
		perror("webd");
		return 1;
	}
	printf("webd: listening on %s\n", argv[1]);
	fflush(stdout);
	for (;;) {
		int client = accept(server, NULL, NULL);
		if (client < 0)
			continue;
		answer(client, argv[2], argv[3]);
		close(client);
	}
}
