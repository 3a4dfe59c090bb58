//! Standardisation with scikit-learn's `StandardScaler` semantics.

use serde::{Deserialize, Serialize};

use super::{Matrix, ModelError};

/// A fitted standard scaler: `(x - mean) / scale` per feature.
///
/// As in scikit-learn, `mean` is the column mean, `scale` the population standard deviation
/// (ddof 0), and a feature that is constant — up to the rounding error of the variance
/// computation — gets a scale of 1, so it is centred but not blown up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ScalerState", into = "ScalerState")]
pub struct StandardScaler {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

/// The serialized form; checked on the way in.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScalerState {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl TryFrom<ScalerState> for StandardScaler {
    type Error = ModelError;
    fn try_from(state: ScalerState) -> Result<Self, ModelError> {
        StandardScaler::from_parts(state.mean, state.scale)
    }
}

impl From<StandardScaler> for ScalerState {
    fn from(s: StandardScaler) -> Self {
        ScalerState {
            mean: s.mean,
            scale: s.scale,
        }
    }
}

impl StandardScaler {
    /// Learns each column's mean and standard deviation.
    pub fn fit(x: Matrix<'_>) -> Result<StandardScaler, ModelError> {
        Ok(Self::fit_rows(x.rows(), x.n_cols()))
    }

    /// [`fit`](Self::fit) on the rows `rows` yields (each `n_cols` wide), in that order, without
    /// gathering them into a matrix first: the same sums in the same order, the same scaler.
    pub fn fit_rows<'a, I>(rows: I, n_cols: usize) -> StandardScaler
    where
        I: Iterator<Item = &'a [f64]> + Clone,
    {
        let n = rows.clone().count() as f64;
        // Column sums accumulate row by row, as numpy reduces a C-ordered array over axis 0.
        let mut sum = vec![0.0; n_cols];
        for row in rows.clone() {
            for (s, v) in sum.iter_mut().zip(row) {
                *s += v;
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        // scikit-learn's corrected two-pass variance (Chan, Golub and LeVeque).
        let mut correction = vec![0.0; n_cols];
        let mut squares = vec![0.0; n_cols];
        for row in rows {
            for (((v, m), c), q) in row.iter().zip(&mean).zip(&mut correction).zip(&mut squares) {
                let d = v - m;
                *c += d;
                *q += d * d;
            }
        }
        let scale = (0..n_cols)
            .map(|j| {
                let var = (squares[j] - correction[j] * correction[j] / n) / n;
                // scikit-learn's `_is_constant_feature`: a variance within the error bound of the
                // two-pass algorithm is indistinguishable from 0.
                let eps = f64::EPSILON;
                let bound = n * eps * var + (n * mean[j] * eps) * (n * mean[j] * eps);
                if var <= bound {
                    1.0
                } else {
                    libm::sqrt(var)
                }
            })
            .collect();
        StandardScaler { mean, scale }
    }

    /// A scaler from stored parameters: equal lengths (at least one feature), finite means,
    /// finite positive scales.
    pub fn from_parts(mean: Vec<f64>, scale: Vec<f64>) -> Result<StandardScaler, ModelError> {
        if mean.is_empty() || mean.len() != scale.len() {
            return Err(ModelError::InvalidModel(format!(
                "scaler has {} means and {} scales",
                mean.len(),
                scale.len()
            )));
        }
        if let Some((j, m)) = mean.iter().enumerate().find(|(_, m)| !m.is_finite()) {
            return Err(ModelError::InvalidModel(format!(
                "scaler mean {m} of feature {j} is not finite"
            )));
        }
        if let Some((j, s)) = scale
            .iter()
            .enumerate()
            .find(|(_, s)| !(s.is_finite() && **s > 0.0))
        {
            return Err(ModelError::InvalidModel(format!(
                "scaler scale {s} of feature {j} is not a finite positive number"
            )));
        }
        Ok(StandardScaler { mean, scale })
    }

    /// The number of features.
    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    /// Per-feature means.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Per-feature scales (standard deviations, 1 for constant features).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// Standardises one row in place.
    pub fn transform_row(&self, row: &mut [f64]) -> Result<(), ModelError> {
        self.check_width(row.len())?;
        for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
            *v = (*v - m) / s;
        }
        Ok(())
    }

    /// Standardises every row into a new row-major buffer of the same shape.
    pub fn transform(&self, x: Matrix<'_>) -> Result<Vec<f64>, ModelError> {
        self.check_width(x.n_cols())?;
        let mut out = Vec::with_capacity(x.as_slice().len());
        for row in x.rows() {
            out.extend(
                row.iter()
                    .zip(&self.mean)
                    .zip(&self.scale)
                    .map(|((v, m), s)| (v - m) / s),
            );
        }
        Ok(out)
    }

    /// Standardises every row into `out`, a caller's buffer of the same length as `x`.
    pub fn transform_into(&self, x: Matrix<'_>, out: &mut [f64]) -> Result<(), ModelError> {
        self.check_width(x.n_cols())?;
        if out.len() != x.as_slice().len() {
            return Err(ModelError::InvalidParameter {
                name: "out",
                message: format!(
                    "buffer of {} values for {} values",
                    out.len(),
                    x.as_slice().len()
                ),
            });
        }
        for (dst, row) in out.chunks_exact_mut(x.n_cols()).zip(x.rows()) {
            for (((d, v), m), s) in dst.iter_mut().zip(row).zip(&self.mean).zip(&self.scale) {
                *d = (v - m) / s;
            }
        }
        Ok(())
    }

    fn check_width(&self, found: usize) -> Result<(), ModelError> {
        if found != self.mean.len() {
            return Err(ModelError::FeatureCountMismatch {
                expected: self.mean.len(),
                found,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(data: &[f64], n_cols: usize) -> StandardScaler {
        let x = Matrix::new(data, n_cols).unwrap_or_else(|e| panic!("{e}"));
        StandardScaler::fit(x).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn rows_read_where_they_are_give_the_scaler_of_the_gathered_rows() {
        let data: Vec<f64> = (0..300)
            .map(|i| f64::from(i * 37 % 101) / 7.0 + 0.1)
            .collect();
        let picked = [9usize, 2, 77, 40, 41, 0, 99, 13, 5];
        let gathered: Vec<f64> = picked
            .iter()
            .flat_map(|&i| data[i * 3..i * 3 + 3].iter().copied())
            .collect();
        let rows = picked.iter().map(|&i| &data[i * 3..i * 3 + 3]);
        assert_eq!(StandardScaler::fit_rows(rows, 3), fit(&gathered, 3));
    }

    #[test]
    fn mean_and_population_std() {
        // Columns [1, 2, 3, 4] and [10, 10, 20, 20].
        let s = fit(&[1.0, 10.0, 2.0, 10.0, 3.0, 20.0, 4.0, 20.0], 2);
        assert_eq!(s.mean(), &[2.5, 15.0]);
        assert_eq!(s.scale(), &[libm::sqrt(1.25), 5.0]);
    }

    #[test]
    fn constant_feature_gets_scale_one_and_is_only_centred() {
        let s = fit(&[7.0, 1.0, 7.0, 2.0, 7.0, 3.0], 2);
        assert_eq!(s.scale()[0], 1.0);
        // 0.1 three times does not sum to exactly 0.3: the variance is rounding noise, not spread.
        let s = fit(&[0.1, 0.1, 0.1], 1);
        assert_eq!(s.scale(), &[1.0]);
        let mut row = [7.5, 2.0];
        fit(&[7.0, 1.0, 7.0, 2.0, 7.0, 3.0], 2)
            .transform_row(&mut row)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(row[0], 0.5);
    }

    #[test]
    fn transform_standardises_rows_and_matrices() {
        let data = [1.0, 10.0, 2.0, 10.0, 3.0, 20.0, 4.0, 20.0];
        let s = fit(&data, 2);
        let x = Matrix::new(&data, 2).unwrap_or_else(|e| panic!("{e}"));
        let t = s.transform(x).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t[1], -1.0);
        assert_eq!(t[7], 1.0);
        let means: Vec<f64> = (0..2)
            .map(|j| (t[j] + t[j + 2] + t[j + 4] + t[j + 6]) / 4.0)
            .collect();
        assert_eq!(means, vec![0.0, 0.0]);
        let mut row = [4.0, 20.0];
        s.transform_row(&mut row).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(row, [t[6], t[7]]);
        let mut into = vec![0.0; data.len()];
        s.transform_into(x, &mut into)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(into, t);
        assert!(s.transform_into(x, &mut [0.0; 3]).is_err());
    }

    #[test]
    fn width_mismatch_is_an_error() {
        let s = fit(&[1.0, 2.0, 3.0, 4.0], 2);
        let mut row = [1.0, 2.0, 3.0];
        assert_eq!(
            s.transform_row(&mut row),
            Err(ModelError::FeatureCountMismatch {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn serde_round_trip_and_checked_deserialisation() {
        let s = fit(&[1.0, 10.0, 2.0, 10.0, 3.0, 20.0], 2);
        let json = serde_json::to_string(&s).unwrap_or_else(|e| panic!("{e}"));
        assert!(json.starts_with(r#"{"mean":[2.0,"#), "{json}");
        let back: StandardScaler = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, s);
        let bad = serde_json::from_str::<StandardScaler>(r#"{"mean":[0.0],"scale":[0.0]}"#);
        let e = bad.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("scale 0 of feature 0"), "{e}");
        let bad = serde_json::from_str::<StandardScaler>(r#"{"mean":[0.0, 1.0],"scale":[1.0]}"#);
        assert!(bad.is_err());
    }
}
