# tracelake's image: the official Airflow image with Java for pyspark and the project installed.
# One image for every Python service of docker-compose.yml: the Airflow components and the lander.
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

USER root
# pyspark 4 drives Spark from the JVM: the distribution's default JRE (17 or 21; Spark 4 supports both).
RUN apt-get update \
    && apt-get install -y --no-install-recommends default-jre-headless \
    && apt-get autoremove -yqq --purge \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/default-java

# Mount points owned by the airflow user, so fresh named volumes start writable for it.
RUN mkdir -p /lake /vault /opt/tracelake \
    && chown -R airflow:0 /lake /vault /opt/tracelake \
    && chmod 0750 /vault

USER airflow
COPY --chown=airflow:0 . /opt/tracelake
# Pin Airflow to the image's own version so the project's dependencies cannot move it. Editable, so
# files beside the modules (jobs/trace/spark/log4j2.properties) and the dags/ folder stay where the code looks.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -e /opt/tracelake

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/tracelake/dags \
    TRACELAKE_LAKE=/lake \
    TRACELAKE_VAULT=/vault
WORKDIR /opt/airflow
