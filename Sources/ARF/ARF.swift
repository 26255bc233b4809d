/// RFC 5965 abuse reports are built here (issue 6).
package enum ARF {}
