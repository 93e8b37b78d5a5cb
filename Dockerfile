# Alpes Partners application image: the web server (gunicorn), the Celery worker and beat all
# run from it (see docker-compose.yml). Configuration comes from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN groupadd --system app && useradd --system --gid app --home-dir /app app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files (admin, API docs, dashboard) collected at build time with the production storage
# (whitenoise's compressed manifest). Throwaway values only let settings load for this step.
RUN DEBUG=false SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-0123456789 \
    IP_HASH_SALT=build-only ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput --verbosity 0

USER app
EXPOSE 8000
CMD ["gunicorn", "alpespartners.wsgi", "--bind", "0.0.0.0:8000"]
