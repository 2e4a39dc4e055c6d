/* Unit tests: the flag parser every program and subcommand uses. */
#include "check.h"
#include "queuectl/flags.h"

#include <string.h>

static const qc_flag_t s_command[] = {
    {"count", 0, 1}, {"wait", 0, 0}, {"follow", 'f', 0}, {"timeout", 0, 1}, {NULL, 0, 0}};
static const qc_flag_t s_global[] = {
    {"json", 0, 0}, {"broker", 0, 1}, {"timeout", 0, 1}, {"help", 'h', 0}, {NULL, 0, 0}};
static const qc_flag_t *const s_tables[] = {s_command, s_global, NULL};

static qc_flags_t *s_parse(int argc, char **argv, int (*ends)(const char *), char *err)
{
    err[0] = '\0';
    return qc_flags_parse(s_tables, argc, argv, ends, err, 256);
}

static int s_is_word(const char *arg)
{
    return arg[0] != '{';
}

int main(void)
{
    char err[256];
    /* Both spellings, before and after arguments; the last value wins. */
    char *a1[] = {"cmd", "--count", "2", "one", "--broker=tcp://h:1", "two", "--count=3", "--json"};
    qc_flags_t *flags = s_parse(8, a1, NULL, err);
    CHECK(flags);
    CHECK(strcmp(qc_flags_value(flags, "count"), "3") == 0);
    CHECK(qc_flags_count(flags, "count") == 2);
    /* Every value of a repeated flag, in order. */
    CHECK(strcmp(qc_flags_value_at(flags, "count", 0), "2") == 0);
    CHECK(strcmp(qc_flags_value_at(flags, "count", 1), "3") == 0);
    CHECK(qc_flags_value_at(flags, "count", 2) == NULL);
    CHECK(qc_flags_value_at(flags, "wait", 0) == NULL);
    CHECK(strcmp(qc_flags_value(flags, "broker"), "tcp://h:1") == 0);
    CHECK(qc_flags_count(flags, "json") == 1);
    CHECK(qc_flags_count(flags, "wait") == 0);
    CHECK(qc_flags_value(flags, "wait") == NULL);
    CHECK(qc_flags_argc(flags) == 2);
    CHECK(strcmp(qc_flags_arg(flags, 0), "one") == 0 && strcmp(qc_flags_arg(flags, 1), "two") == 0);
    CHECK(qc_flags_arg(flags, 2) == NULL);
    CHECK(qc_flags_args(flags)[2] == NULL);
    qc_flags_destroy(&flags);
    CHECK(flags == NULL);
    qc_flags_destroy(&flags); /* NULL is fine */
    /* argv untouched. */
    CHECK(strcmp(a1[3], "one") == 0 && strcmp(a1[7], "--json") == 0);

    /* Short names, a value that looks like a flag, "--" ends the flags. */
    char *a2[] = {"cmd", "-f", "--count", "-1", "--", "--json", "x"};
    flags = s_parse(7, a2, NULL, err);
    CHECK(flags);
    CHECK(qc_flags_count(flags, "follow") == 1);
    CHECK(strcmp(qc_flags_value(flags, "count"), "-1") == 0);
    CHECK(qc_flags_count(flags, "json") == 0);
    CHECK(qc_flags_argc(flags) == 2 && strcmp(qc_flags_arg(flags, 0), "--json") == 0);
    qc_flags_destroy(&flags);

    /* The first table wins: the command's --timeout shadows the global one
     * (one entry, so the count is shared). */
    char *a3[] = {"cmd", "--timeout=1s", "-h"};
    flags = s_parse(3, a3, NULL, err);
    CHECK(flags && strcmp(qc_flags_value(flags, "timeout"), "1s") == 0);
    CHECK(qc_flags_count(flags, "help") == 1);
    qc_flags_destroy(&flags);

    /* ends_flags: the first word ends the flags; a JSON argument doesn't. */
    char *a4[] = {"enqueue", "--wait", "{}", "--count", "1", "echo", "--json", "--", "-x"};
    flags = s_parse(9, a4, s_is_word, err);
    CHECK(flags);
    CHECK(qc_flags_count(flags, "wait") == 1 && strcmp(qc_flags_value(flags, "count"), "1") == 0);
    CHECK(qc_flags_count(flags, "json") == 0);
    CHECK(qc_flags_argc(flags) == 5);
    CHECK(strcmp(qc_flags_arg(flags, 0), "{}") == 0);
    CHECK(strcmp(qc_flags_arg(flags, 1), "echo") == 0);
    CHECK(strcmp(qc_flags_arg(flags, 2), "--json") == 0);
    CHECK(strcmp(qc_flags_arg(flags, 3), "--") == 0);
    CHECK(strcmp(qc_flags_arg(flags, 4), "-x") == 0);
    qc_flags_destroy(&flags);
    char *a5[] = {"enqueue", "--", "ls", "-l"};
    flags = s_parse(4, a5, s_is_word, err);
    CHECK(flags && qc_flags_argc(flags) == 2 && strcmp(qc_flags_arg(flags, 1), "-l") == 0);
    qc_flags_destroy(&flags);

    /* Errors name the flag. */
    char *b1[] = {"cmd", "--frobnicate=3"};
    CHECK(s_parse(2, b1, NULL, err) == NULL && strstr(err, "unknown option \"--frobnicate\""));
    char *b2[] = {"cmd", "--count"};
    CHECK(s_parse(2, b2, NULL, err) == NULL && strstr(err, "--count needs a value"));
    char *b3[] = {"cmd", "--json=yes"};
    CHECK(s_parse(2, b3, NULL, err) == NULL && strstr(err, "--json takes no value"));
    char *b4[] = {"cmd", "-q"};
    CHECK(s_parse(2, b4, NULL, err) == NULL && strstr(err, "unknown option \"-q\""));
    /* No abbreviations, even unambiguous ones. */
    char *b5[] = {"cmd", "--cou", "2"};
    CHECK(s_parse(3, b5, NULL, err) == NULL && strstr(err, "unknown option \"--cou\""));
    char *b6[] = {"cmd", "--wai"};
    CHECK(s_parse(2, b6, NULL, err) == NULL && strstr(err, "unknown option \"--wai\""));
    /* Parsing twice in a row starts afresh. */
    char *a6[] = {"cmd", "x", "--wait"};
    flags = s_parse(3, a6, NULL, err);
    CHECK(flags && qc_flags_count(flags, "wait") == 1 && qc_flags_argc(flags) == 1);
    qc_flags_destroy(&flags);
    /* Negative numbers are arguments and values, not flags. */
    char *a8[] = {"config", "set", "max-retries", "-3", "--count", "-2"};
    flags = s_parse(6, a8, NULL, err);
    CHECK(flags && qc_flags_argc(flags) == 3 && strcmp(qc_flags_arg(flags, 2), "-3") == 0);
    CHECK(qc_flags_arg(flags, 2) == a8[3]);
    CHECK(strcmp(qc_flags_value(flags, "count"), "-2") == 0);
    qc_flags_destroy(&flags);
    char *a9[] = {"enqueue", "-5", "x"};
    flags = s_parse(3, a9, s_is_word, err);
    CHECK(flags && qc_flags_argc(flags) == 2 && strcmp(qc_flags_arg(flags, 0), "-5") == 0);
    qc_flags_destroy(&flags);
    /* No arguments at all. */
    char *a7[] = {"cmd"};
    flags = s_parse(1, a7, NULL, err);
    CHECK(flags && qc_flags_argc(flags) == 0);
    qc_flags_destroy(&flags);
    CHECK(qc_flags_table_has(s_command, "wait") && !qc_flags_table_has(s_command, "json"));
    printf("flags: ok\n");
    return 0;
}
