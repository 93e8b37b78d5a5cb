"""Applications to a marca's programme (PRODUCT.md §12): the public form's rows, and staff's
approval (socio, user, agreement, invitation) or rejection."""
