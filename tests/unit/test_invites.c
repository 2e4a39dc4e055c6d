/* Unit tests: the invite book (time driven through its arguments, no
 * sleeps) and the join token's encoding. */
#include "check.h"
#include "invites.h"
#include "queuectl/join.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_path[256];

static int s_file_has(const char *text)
{
    FILE *f = fopen(s_path, "r");
    char buf[65536];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return strstr(buf, text) != NULL;
}

int main(void)
{
    char dir[] = "/tmp/qc_invites.XXXXXX";
    CHECK(mkdtemp(dir));
    snprintf(s_path, sizeof s_path, "%s/invites.json", dir);
    const int64_t t0 = 1800000000000LL, hour = 3600 * 1000;
    int64_t mono = 1000;
    char id[QC_INVITE_ID_HEX + 1], secret[QC_INVITE_SECRET_HEX + 1], err[256];

    qc_invites_t *book = qc_invites_new(s_path);
    CHECK(book);
    CHECK(!qc_invites_open_for(book, "worker", t0)); /* no file: nothing open */
    CHECK(qc_invites_create(book, "worker", hour, 2, t0, id, secret, err, sizeof err) == 0);
    CHECK(strlen(id) == QC_INVITE_ID_HEX && strlen(secret) == QC_INVITE_SECRET_HEX);
    CHECK(!s_file_has(secret)); /* only the hash is kept */
    struct stat st;
    CHECK(stat(s_path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(qc_invites_open_for(book, "worker", t0));
    CHECK(!qc_invites_open_for(book, "client", t0));

    /* Right secret: two uses, then used up. Another role or id: invalid. */
    CHECK(qc_invites_redeem(book, "client", id, secret, t0, mono) == QC_INVITE_INVALID);
    CHECK(qc_invites_redeem(book, "worker", "000000000000", secret, t0, mono) == QC_INVITE_INVALID);
    CHECK(qc_invites_redeem(book, "worker", id, secret, t0 + 1, mono) == QC_INVITE_OK);
    /* A second book over the same file (the ZAP handler's) sees the use. */
    qc_invites_t *reader = qc_invites_new(s_path);
    CHECK(reader && qc_invites_open_for(reader, "worker", t0 + 2));
    CHECK(qc_invites_redeem(book, "worker", id, secret, t0 + 2, mono) == QC_INVITE_OK);
    CHECK(qc_invites_redeem(book, "worker", id, secret, t0 + 3, mono) == QC_INVITE_USED);
    qc_invites_refund(book, id, t0 + 4);
    CHECK(qc_invites_redeem(book, "worker", id, secret, t0 + 5, mono) == QC_INVITE_OK);
    /* Used up: still open (to say so) for a day, then gone from the book. */
    CHECK(qc_invites_open_for(reader, "worker", t0 + 6));
    CHECK(qc_invites_open_for(reader, "worker", t0 + QC_INVITE_KEEP_MS));
    CHECK(!qc_invites_open_for(reader, "worker", t0 + 6 + QC_INVITE_KEEP_MS));

    /* Expired: said only to the holder of the right secret. */
    char id2[QC_INVITE_ID_HEX + 1], secret2[QC_INVITE_SECRET_HEX + 1];
    CHECK(qc_invites_create(book, "client", 1000, 1, t0, id2, secret2, err, sizeof err) == 0);
    CHECK(strcmp(id, id2) != 0 && strcmp(secret, secret2) != 0);
    CHECK(qc_invites_redeem(book, "client", id2, secret2, t0 + 1000, mono) == QC_INVITE_EXPIRED);
    char wrong[QC_INVITE_SECRET_HEX + 1];
    memcpy(wrong, secret2, sizeof wrong);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    CHECK(qc_invites_redeem(book, "client", id2, wrong, t0 + 1000, mono) == QC_INVITE_INVALID);

    /* An invite that saw QC_INVITE_MAX_FAILURES wrong secrets is burnt. */
    char id3[QC_INVITE_ID_HEX + 1], secret3[QC_INVITE_SECRET_HEX + 1];
    CHECK(qc_invites_create(book, "worker", hour, 5, t0, id3, secret3, err, sizeof err) == 0);
    memcpy(wrong, secret3, sizeof wrong);
    wrong[1] = wrong[1] == 'a' ? 'b' : 'a';
    for (int i = 0; i < QC_INVITE_MAX_FAILURES; i++)
        CHECK(qc_invites_redeem(book, "worker", id3, wrong, t0, mono) == QC_INVITE_INVALID);
    CHECK(qc_invites_redeem(book, "worker", id3, secret3, t0, mono) == QC_INVITE_INVALID);

    /* The wrong-secret budget (per broker: a new book here): QC_INVITE_FAIL_BURST,
     * then one per QC_INVITE_FAIL_REFILL_MS. Right secrets are cut off too
     * while it is empty: nothing is even checked. */
    qc_invites_t *fresh = qc_invites_new(s_path);
    for (int i = 0; i < QC_INVITE_FAIL_BURST; i++)
        CHECK(qc_invites_redeem(fresh, "worker", id3, "nope", t0, mono) == QC_INVITE_INVALID);
    CHECK(qc_invites_redeem(fresh, "worker", id3, "nope", t0, mono) == QC_INVITE_LIMITED);
    char id4[QC_INVITE_ID_HEX + 1], secret4[QC_INVITE_SECRET_HEX + 1];
    CHECK(qc_invites_create(fresh, "worker", hour, 1, t0, id4, secret4, err, sizeof err) == 0);
    CHECK(qc_invites_redeem(fresh, "worker", id4, secret4, t0, mono) == QC_INVITE_LIMITED);
    mono += QC_INVITE_FAIL_REFILL_MS;
    CHECK(qc_invites_redeem(fresh, "worker", id4, secret4, t0, mono) == QC_INVITE_OK);

    /* Tokens: encode, decode, refuse damage. */
    qc_token_t token = {.role = "worker", .endpoint = "tcp://10.0.0.1:5556"}, back;
    memcpy(token.key, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", 41);
    memcpy(token.invite, id, sizeof token.invite);
    memcpy(token.secret, secret, sizeof token.secret);
    char *text = qc_token_encode(&token);
    CHECK(text && strncmp(text, QC_TOKEN_PREFIX, strlen(QC_TOKEN_PREFIX)) == 0);
    CHECK(strspn(text + strlen(QC_TOKEN_PREFIX),
                 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          strlen(text) - strlen(QC_TOKEN_PREFIX)); /* shell- and URL-safe */
    CHECK(qc_token_decode(text, &back, err, sizeof err) == 0);
    CHECK(memcmp(&token, &back, sizeof token) == 0);
    text[strlen(text) - 10] = '\0'; /* cut when copied */
    CHECK(qc_token_decode(text, &back, err, sizeof err) == -1 && strstr(err, "damaged"));
    CHECK(qc_token_decode("hello", &back, err, sizeof err) == -1 && strstr(err, "not a join"));
    CHECK(qc_token_decode("qcjoin1.a b", &back, err, sizeof err) == -1);
    free(text);

    qc_invites_destroy(&fresh);
    qc_invites_destroy(&reader);
    qc_invites_destroy(&book);
    CHECK(book == NULL);
    qc_invites_destroy(NULL);
    unlink(s_path);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", s_path);
    unlink(tmp);
    rmdir(dir);
    printf("invites: ok\n");
    return 0;
}
