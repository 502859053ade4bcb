"""Forms posted by the site (flask-wtf gives each one a CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class ReportForm(FlaskForm):
    """'Zgłoś błąd': what is wrong with an institution's data, and an optional way to reach the reporter."""

    message = TextAreaField(
        _l("Co jest nie tak?"),
        validators=[
            DataRequired(message=_l("Opisz, proszę, co jest nie tak.")),
            Length(min=10, max=2000, message=_l("Opis powinien mieć od 10 do 2000 znaków.")),
        ],
        description=_l("Np. nieaktualny telefon, zły adres, jednostka już nie działa.")
    )
    contact = StringField(
        _l("Kontakt do Ciebie (nieobowiązkowy)"),
        validators=[Optional(), Length(max=200, message=_l("Kontakt może mieć najwyżej 200 znaków."))],
        description=_l("E-mail lub telefon, jeśli chcesz, żebyśmy mogli dopytać. Nie publikujemy go.")
    )
